#include <cstdlib>
#include <cstring>
#include <vector>
int main() {
    std::vector<char*> hoard;
    while (true) {
        char* block = static_cast<char*>(std::malloc(64 << 20));
        std::memset(block, 1, 64 << 20);
        hoard.push_back(block);
    }
}
