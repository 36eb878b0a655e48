// System-library shim for OpenBLAS' CBLAS interface. No Swift API lives here.
#include <cblas.h>
