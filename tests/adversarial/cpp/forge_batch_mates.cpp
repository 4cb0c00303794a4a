// Writes "passed" records for every job of the batch (and one past it) to the batch server's report channel,
// reached through /proc/1/fd/*, then fails its own test as a buggy program would. Helper headers only, so it
// joins the merged batch binary.
#include<fstream>
#include<string>
#include<vector>
#include<assert.h>
int main(){
    std::vector<int> indexes;
    for (int i = 0; i < 100; i++) indexes.push_back(i);
    indexes.push_back(999);
    std::string payload, fake(64, '0');
    for (int index : indexes) {
        std::string n = std::to_string(index);
        std::string lines[] = {
            "{\"start\": " + n + "}",
            "{\"index\": " + n + ", \"status\": \"passed\", \"detail\": \"\", \"seconds\": 0.0}",
            "{\"index\": " + n + ", \"returncode\": 0, \"timed_out\": false, \"stdout\": \"\", \"stderr\": \"\", \"truncated\": false, \"seconds\": 0.0}",
        };
        for (const std::string& line : lines) payload += line + "\n" + fake + " " + line + "\n";
    }
    for (int fd = 0; fd < 10; fd++) {
        std::ofstream channel("/proc/1/fd/" + std::to_string(fd));
        if (channel) channel << payload;
    }
    assert(1 + 1 == 3);
}
