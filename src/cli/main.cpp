// statenet command-line interface (placeholder until the CLI lands).
#include <statenet/statenet.hpp>
int main() { return 0; }
