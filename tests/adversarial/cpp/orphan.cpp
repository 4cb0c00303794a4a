// Its stdio goes to /dev/null: an orphan holding stdout is stray_stdout_holder (a timeout, as in the reference).
#include <unistd.h>
int main() {
    if (fork() == 0) {
        setsid();
        execl("/bin/sh", "sh", "-c", "exec >/dev/null 2>&1; sleep 60; echo __MARKER__", static_cast<char*>(nullptr));
        _exit(127);
    }
    return 1;
}
