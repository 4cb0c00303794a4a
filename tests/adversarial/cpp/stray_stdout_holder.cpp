// Leaves a child holding its standard output and error for 30 s, then exits 0. The reference
// (subprocess.run with capture_output and a timeout) waits for the end of output: timed out.
#include<unistd.h>
int main(){
    if (fork() == 0) sleep(30);
    return 0;
}
