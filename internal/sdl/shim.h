// The part of SDL2's C interface that p2pcam uses, declared here so that
// no SDL header is needed to build: the library is opened with dlopen when
// a window is first asked for. Every name here is psdl_ or PSDL_, so that the
// ABI check (testdata/abi.c) can include this file beside SDL's own
// headers and compare the two; the calls through the resolved pointers
// are pSDL_ and SDL's name.
//
// The values are SDL2's stable ABI (SDL 2.0.4 and later); testdata/abi.c
// checks each against the installed headers.

#ifndef P2PCAM_PSDL_H
#define P2PCAM_PSDL_H

#include <stdint.h>

// Subsystems (SDL_Init).
#define PSDL_INIT_AUDIO 0x00000010u
#define PSDL_INIT_VIDEO 0x00000020u

// Window creation and state (SDL_WindowFlags, SDL_WINDOWPOS_CENTERED).
#define PSDL_WINDOWPOS_CENTERED 0x2FFF0000u
#define PSDL_WINDOW_FULLSCREEN 0x00000001u
#define PSDL_WINDOW_HIDDEN 0x00000008u
#define PSDL_WINDOW_RESIZABLE 0x00000020u
#define PSDL_WINDOW_FULLSCREEN_DESKTOP 0x00001001u

// Event types (SDL_EventType) and window events (SDL_WindowEventID).
#define PSDL_WINDOWEVENT 0x200u
#define PSDL_KEYDOWN 0x300u
#define PSDL_MOUSEBUTTONDOWN 0x401u
#define PSDL_WINDOWEVENT_SHOWN 1
#define PSDL_WINDOWEVENT_EXPOSED 3
#define PSDL_WINDOWEVENT_SIZE_CHANGED 6
#define PSDL_WINDOWEVENT_CLOSE 14

// Key codes (SDL_Keycode: a character key's code is its character).
#define PSDL_K_ESCAPE 0x1B
#define PSDL_K_F 'f'
#define PSDL_K_M 'm'
#define PSDL_K_Q 'q'
#define PSDL_K_S 's'
#define PSDL_BUTTON_LEFT 1

// Textures: I420 (SDL_PIXELFORMAT_IYUV, the FourCC "IYUV") and bytes R, G,
// B, A in memory (SDL_PIXELFORMAT_RGBA32: ABGR8888 on a little-endian
// machine, RGBA8888 on a big-endian one).
#define PSDL_PIXELFORMAT_IYUV 0x56555949u
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define PSDL_PIXELFORMAT_RGBA32 0x16462004u
#else
#define PSDL_PIXELFORMAT_RGBA32 0x16762004u
#endif
#define PSDL_TEXTUREACCESS_STATIC 0
#define PSDL_TEXTUREACCESS_STREAMING 1
#define PSDL_BLENDMODE_BLEND 1

// Hints and sound.
#define PSDL_HINT_OVERRIDE 2
#define PSDL_AUDIO_S16LSB 0x8010

// SDL's objects, only ever pointed to.
typedef struct psdl_window psdl_window;
typedef struct psdl_renderer psdl_renderer;
typedef struct psdl_texture psdl_texture;

// SDL_bool and the enums passed by value: C enums are ints here.
typedef int psdl_bool;
typedef int psdl_hint_priority;
typedef int psdl_blend_mode;
typedef uint32_t psdl_audio_device_id;

typedef struct psdl_version {
	uint8_t major, minor, patch;
} psdl_version;

typedef struct psdl_rect {
	int x, y, w, h;
} psdl_rect;

typedef struct psdl_renderer_info {
	const char *name;
	uint32_t flags;
	uint32_t num_texture_formats;
	uint32_t texture_formats[16];
	int max_texture_width;
	int max_texture_height;
} psdl_renderer_info;

typedef struct psdl_audio_spec {
	int freq;
	uint16_t format;
	uint8_t channels;
	uint8_t silence;
	uint16_t samples;
	uint16_t padding;
	uint32_t size;
	void (*callback)(void *userdata, uint8_t *stream, int len);
	void *userdata;
} psdl_audio_spec;

// The events p2pcam reads, each as SDL lays it out.
typedef struct psdl_window_event {
	uint32_t type, timestamp, window_id;
	uint8_t event, padding1, padding2, padding3;
	int32_t data1, data2;
} psdl_window_event;

typedef struct psdl_keysym {
	int32_t scancode;
	int32_t sym;
	uint16_t mod;
	uint32_t unused;
} psdl_keysym;

typedef struct psdl_keyboard_event {
	uint32_t type, timestamp, window_id;
	uint8_t state, repeat, padding2, padding3;
	psdl_keysym keysym;
} psdl_keyboard_event;

typedef struct psdl_mouse_button_event {
	uint32_t type, timestamp, window_id, which;
	uint8_t button, state, clicks, padding1;
	int32_t x, y;
} psdl_mouse_button_event;

typedef struct psdl_user_event {
	uint32_t type, timestamp, window_id;
	int32_t code;
	void *data1, *data2;
} psdl_user_event;

// SDL_Event: SDL reads and writes the whole union (56 bytes where a
// pointer is 8 bytes or less), whatever the event.
typedef union psdl_event {
	uint32_t type;
	psdl_window_event window;
	psdl_keyboard_event key;
	psdl_mouse_button_event button;
	psdl_user_event user;
	uint8_t padding[sizeof(void *) <= 8 ? 56 : sizeof(void *) == 16 ? 64 : 3 * sizeof(void *)];
} psdl_event;

// PSDL_FUNCS lists every SDL function the shim resolves: X(return type,
// SDL's name, parameters). shim.c turns it into the table of pointers
// dlsym fills; testdata/abi.c into checks against SDL's prototypes.
#define PSDL_FUNCS(X) \
	X(void, SDL_GetVersion, (psdl_version *ver)) \
	X(const char *, SDL_GetError, (void)) \
	X(psdl_bool, SDL_SetHint, (const char *name, const char *value)) \
	X(psdl_bool, SDL_SetHintWithPriority, (const char *name, const char *value, psdl_hint_priority priority)) \
	X(int, SDL_InitSubSystem, (uint32_t flags)) \
	X(void, SDL_QuitSubSystem, (uint32_t flags)) \
	X(void, SDL_Quit, (void)) \
	X(const char *, SDL_GetCurrentVideoDriver, (void)) \
	X(const char *, SDL_GetCurrentAudioDriver, (void)) \
	X(uint32_t, SDL_RegisterEvents, (int numevents)) \
	X(int, SDL_PushEvent, (psdl_event *event)) \
	X(int, SDL_PollEvent, (psdl_event *event)) \
	X(int, SDL_WaitEventTimeout, (psdl_event *event, int timeout)) \
	X(psdl_window *, SDL_CreateWindow, (const char *title, int x, int y, int w, int h, uint32_t flags)) \
	X(void, SDL_DestroyWindow, (psdl_window *window)) \
	X(uint32_t, SDL_GetWindowID, (psdl_window *window)) \
	X(uint32_t, SDL_GetWindowFlags, (psdl_window *window)) \
	X(void, SDL_SetWindowTitle, (psdl_window *window, const char *title)) \
	X(void, SDL_SetWindowSize, (psdl_window *window, int w, int h)) \
	X(void, SDL_SetWindowPosition, (psdl_window *window, int x, int y)) \
	X(void, SDL_ShowWindow, (psdl_window *window)) \
	X(int, SDL_SetWindowFullscreen, (psdl_window *window, uint32_t flags)) \
	X(psdl_renderer *, SDL_CreateRenderer, (psdl_window *window, int index, uint32_t flags)) \
	X(void, SDL_DestroyRenderer, (psdl_renderer *renderer)) \
	X(int, SDL_GetRendererInfo, (psdl_renderer *renderer, psdl_renderer_info *info)) \
	X(int, SDL_GetRendererOutputSize, (psdl_renderer *renderer, int *w, int *h)) \
	X(int, SDL_SetRenderDrawColor, (psdl_renderer *renderer, uint8_t r, uint8_t g, uint8_t b, uint8_t a)) \
	X(int, SDL_RenderClear, (psdl_renderer *renderer)) \
	X(int, SDL_RenderCopy, (psdl_renderer *renderer, psdl_texture *texture, const psdl_rect *src, const psdl_rect *dst)) \
	X(void, SDL_RenderPresent, (psdl_renderer *renderer)) \
	X(psdl_texture *, SDL_CreateTexture, (psdl_renderer *renderer, uint32_t format, int access, int w, int h)) \
	X(void, SDL_DestroyTexture, (psdl_texture *texture)) \
	X(int, SDL_UpdateTexture, (psdl_texture *texture, const psdl_rect *rect, const void *pixels, int pitch)) \
	X(int, SDL_UpdateYUVTexture, (psdl_texture *texture, const psdl_rect *rect, const uint8_t *y, int ypitch, const uint8_t *u, int upitch, const uint8_t *v, int vpitch)) \
	X(int, SDL_SetTextureBlendMode, (psdl_texture *texture, psdl_blend_mode mode)) \
	X(psdl_audio_device_id, SDL_OpenAudioDevice, (const char *device, int iscapture, const psdl_audio_spec *desired, psdl_audio_spec *obtained, int allowed_changes)) \
	X(void, SDL_CloseAudioDevice, (psdl_audio_device_id dev)) \
	X(void, SDL_PauseAudioDevice, (psdl_audio_device_id dev, int pause_on)) \
	X(uint32_t, SDL_GetQueuedAudioSize, (psdl_audio_device_id dev)) \
	X(int, SDL_QueueAudio, (psdl_audio_device_id dev, const void *data, uint32_t len))

// psdl_load opens the first of the n library names that dlopen can open
// and resolves every function of PSDL_FUNCS in it. It returns NULL, or
// why not in a static buffer (dlerror's words, or the missing function).
// Not safe to call from two threads at once, nor more than once with
// success (the Go side calls it once).
const char *psdl_load(const char *const *names, int n);

// psdl_loaded_from names the library psdl_load opened.
const char *psdl_loaded_from(void);

// One call per function of PSDL_FUNCS, through the resolved pointer: cgo
// cannot call a C function pointer itself. Only after psdl_load succeeded.
#define PSDL_DECLARE(ret, name, params) ret p##name params;
PSDL_FUNCS(PSDL_DECLARE)
#undef PSDL_DECLARE

#endif
