/* fuzz_entry.c - the libFuzzer entry point of one target; FUZZ_ONE names
 * its function (tests/fuzz/CMakeLists.txt sets it per executable). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return FUZZ_ONE(data, size);
}
