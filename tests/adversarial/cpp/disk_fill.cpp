#include <cstdio>
int main() {
    static char chunk[1 << 20];
    FILE* f = std::fopen("fill.bin", "wb");
    if (!f) return 1;
    while (std::fwrite(chunk, 1, sizeof chunk, f) == sizeof chunk) {}
    return 1;
}
