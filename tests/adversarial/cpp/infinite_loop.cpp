int main() {
    volatile unsigned long spins = 0;
    while (true) spins = spins + 1;
}
