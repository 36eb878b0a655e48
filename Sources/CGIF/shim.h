// System-library shim for giflib (animated GIF encoding). No Swift API lives here.
#include <gif_lib.h>
