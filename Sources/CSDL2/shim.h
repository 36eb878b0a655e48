// System-library shim for SDL2. No Swift API lives here.
#include <SDL2/SDL.h>
