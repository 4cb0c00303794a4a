#include <unistd.h>
int main() {
    if (fork() == 0) {
        setsid();
        execl("/bin/sh", "sh", "-c", "sleep 60; echo __MARKER__", static_cast<char*>(nullptr));
        _exit(127);
    }
    return 1;
}
