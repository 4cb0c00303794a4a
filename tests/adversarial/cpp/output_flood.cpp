#include <cstdio>
#include <string>
int main() {
    std::string line(1000, 'x');
    while (true) std::puts(line.c_str());
}
