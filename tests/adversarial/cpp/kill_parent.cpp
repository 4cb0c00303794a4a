#include <csignal>
#include <unistd.h>
int main() {
    kill(getppid(), SIGKILL);
    kill(1, SIGKILL);
    kill(-1, SIGKILL);
    usleep(200000);
    return 1;
}
