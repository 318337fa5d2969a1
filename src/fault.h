/* Fault injection hooks, exported only by a library built with -DCLCONV_FAULT_INJECTION=ON (tests use them). */
#ifndef CLCONV_FAULT_H
#define CLCONV_FAULT_H
#include "clconv.h"
#ifdef __cplusplus
extern "C" {
#endif
/* From now on, the nth call (1-based) through the OpenCL/allocation layer fails, and only that one:
 * OpenCL calls return CL_OUT_OF_RESOURCES, allocations return NULL. n = 0 disables. Resets the call counter. */
CLCONV_API void clconv_fault_fail_nth(long n);
/* Calls through the layer since the last clconv_fault_fail_nth. */
CLCONV_API long clconv_fault_calls(void);
/* From now on, the direct algorithm runs kernel (kt, wt, kind: 0 tiled, 1 wide, 2 local; see clconv__variant)
 * wherever that kernel can run the shape, in place of the built-in or tuned choice; kt < 0 ends it. Not
 * thread-safe: for tests that sweep every kernel variant. */
CLCONV_API void clconv_fault_force_kernel(int kt, int wt, int kind);
#ifdef __cplusplus
}
#endif
#endif
