// System-library shim for SDL2 with SDL2_ttf (text) and SDL2_image (PNG). No Swift API lives here.
#include <SDL2/SDL.h>
#include <SDL2/SDL_ttf.h>
#include <SDL2/SDL_image.h>
