#include <cstdio>
int main() {
    bool breached = std::remove("__CANARY__") == 0;
    FILE* f = std::fopen("__CANARY_DIR__/intruder.txt", "w");
    if (f) {
        std::fputs("escaped", f);
        std::fclose(f);
        breached = true;
    }
    return breached ? 0 : 1;
}
