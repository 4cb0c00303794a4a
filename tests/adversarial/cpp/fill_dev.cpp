#include <fstream>
#include <string>
int main() {
    const std::string block(1 << 20, 'x');
    for (const char* path : {"/dev/octopack-fill", "/octopack-fill"}) {
        std::ofstream file(path, std::ios::binary);
        if (file && file.write(block.data(), block.size()) && file.flush()) return 0;
    }
    return 1;
}
