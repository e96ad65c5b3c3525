//go:build cgo

// The loader: dlopen SDL2, dlsym each function of PSDL_FUNCS, and one
// call per function through its pointer.

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>

#include "shim.h"

// The resolved functions, one pointer per entry of PSDL_FUNCS.
#define PSDL_POINTER(ret, name, params) ret (*name) params;
static struct {
	PSDL_FUNCS(PSDL_POINTER)
} fn;
#undef PSDL_POINTER

// Each function's name and the slot its address goes into.
#define PSDL_SYMBOL(ret, name, params) {#name, (void **)&fn.name},
static const struct {
	const char *name;
	void **slot;
} symbols[] = {
	PSDL_FUNCS(PSDL_SYMBOL)
};
#undef PSDL_SYMBOL

static void *lib; // the library, open for the life of the process
static char lib_name[256];
static char why[512];

const char *psdl_load(const char *const *names, int n) {
	void *h = NULL;
	int i;
	why[0] = 0;
	for (i = 0; i < n && h == NULL; i++) {
		// RTLD_LOCAL: SDL's names stay out of the process's namespace.
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		if (h == NULL && why[0] == 0) {
			// The first name's failure is the one worth reporting
			// (the others are where a Mac keeps it).
			const char *e = dlerror();
			snprintf(why, sizeof why, "%s", e != NULL ? e : names[i]);
		}
	}
	if (h == NULL) {
		return why;
	}
	for (size_t k = 0; k < sizeof symbols / sizeof symbols[0]; k++) {
		void *p = dlsym(h, symbols[k].name);
		if (p == NULL) {
			snprintf(why, sizeof why, "%s has no %s (SDL 2.0.4 or later is needed)", names[i - 1], symbols[k].name);
			dlclose(h);
			return why;
		}
		*symbols[k].slot = p;
	}
	lib = h;
	snprintf(lib_name, sizeof lib_name, "%s", names[i - 1]);
	return NULL;
}

const char *psdl_loaded_from(void) { return lib_name; }

void pSDL_GetVersion(psdl_version *ver) { fn.SDL_GetVersion(ver); }
const char *pSDL_GetError(void) { return fn.SDL_GetError(); }
psdl_bool pSDL_SetHint(const char *name, const char *value) { return fn.SDL_SetHint(name, value); }
psdl_bool pSDL_SetHintWithPriority(const char *name, const char *value, psdl_hint_priority priority) {
	return fn.SDL_SetHintWithPriority(name, value, priority);
}
int pSDL_InitSubSystem(uint32_t flags) { return fn.SDL_InitSubSystem(flags); }
void pSDL_QuitSubSystem(uint32_t flags) { fn.SDL_QuitSubSystem(flags); }
void pSDL_Quit(void) { fn.SDL_Quit(); }
const char *pSDL_GetCurrentVideoDriver(void) { return fn.SDL_GetCurrentVideoDriver(); }
const char *pSDL_GetCurrentAudioDriver(void) { return fn.SDL_GetCurrentAudioDriver(); }
uint32_t pSDL_RegisterEvents(int numevents) { return fn.SDL_RegisterEvents(numevents); }
int pSDL_PushEvent(psdl_event *event) { return fn.SDL_PushEvent(event); }
int pSDL_PollEvent(psdl_event *event) { return fn.SDL_PollEvent(event); }
int pSDL_WaitEventTimeout(psdl_event *event, int timeout) { return fn.SDL_WaitEventTimeout(event, timeout); }
psdl_window *pSDL_CreateWindow(const char *title, int x, int y, int w, int h, uint32_t flags) {
	return fn.SDL_CreateWindow(title, x, y, w, h, flags);
}
void pSDL_DestroyWindow(psdl_window *window) { fn.SDL_DestroyWindow(window); }
uint32_t pSDL_GetWindowID(psdl_window *window) { return fn.SDL_GetWindowID(window); }
uint32_t pSDL_GetWindowFlags(psdl_window *window) { return fn.SDL_GetWindowFlags(window); }
void pSDL_SetWindowTitle(psdl_window *window, const char *title) { fn.SDL_SetWindowTitle(window, title); }
void pSDL_SetWindowSize(psdl_window *window, int w, int h) { fn.SDL_SetWindowSize(window, w, h); }
void pSDL_SetWindowPosition(psdl_window *window, int x, int y) { fn.SDL_SetWindowPosition(window, x, y); }
void pSDL_ShowWindow(psdl_window *window) { fn.SDL_ShowWindow(window); }
int pSDL_SetWindowFullscreen(psdl_window *window, uint32_t flags) { return fn.SDL_SetWindowFullscreen(window, flags); }
psdl_renderer *pSDL_CreateRenderer(psdl_window *window, int index, uint32_t flags) {
	return fn.SDL_CreateRenderer(window, index, flags);
}
void pSDL_DestroyRenderer(psdl_renderer *renderer) { fn.SDL_DestroyRenderer(renderer); }
int pSDL_GetRendererInfo(psdl_renderer *renderer, psdl_renderer_info *info) {
	return fn.SDL_GetRendererInfo(renderer, info);
}
int pSDL_GetRendererOutputSize(psdl_renderer *renderer, int *w, int *h) {
	return fn.SDL_GetRendererOutputSize(renderer, w, h);
}
int pSDL_SetRenderDrawColor(psdl_renderer *renderer, uint8_t r, uint8_t g, uint8_t b, uint8_t a) {
	return fn.SDL_SetRenderDrawColor(renderer, r, g, b, a);
}
int pSDL_RenderClear(psdl_renderer *renderer) { return fn.SDL_RenderClear(renderer); }
int pSDL_RenderCopy(psdl_renderer *renderer, psdl_texture *texture, const psdl_rect *src, const psdl_rect *dst) {
	return fn.SDL_RenderCopy(renderer, texture, src, dst);
}
void pSDL_RenderPresent(psdl_renderer *renderer) { fn.SDL_RenderPresent(renderer); }
psdl_texture *pSDL_CreateTexture(psdl_renderer *renderer, uint32_t format, int access, int w, int h) {
	return fn.SDL_CreateTexture(renderer, format, access, w, h);
}
void pSDL_DestroyTexture(psdl_texture *texture) { fn.SDL_DestroyTexture(texture); }
int pSDL_UpdateTexture(psdl_texture *texture, const psdl_rect *rect, const void *pixels, int pitch) {
	return fn.SDL_UpdateTexture(texture, rect, pixels, pitch);
}
int pSDL_UpdateYUVTexture(psdl_texture *texture, const psdl_rect *rect, const uint8_t *y, int ypitch,
                          const uint8_t *u, int upitch, const uint8_t *v, int vpitch) {
	return fn.SDL_UpdateYUVTexture(texture, rect, y, ypitch, u, upitch, v, vpitch);
}
int pSDL_SetTextureBlendMode(psdl_texture *texture, psdl_blend_mode mode) {
	return fn.SDL_SetTextureBlendMode(texture, mode);
}
psdl_audio_device_id pSDL_OpenAudioDevice(const char *device, int iscapture, const psdl_audio_spec *desired,
                                          psdl_audio_spec *obtained, int allowed_changes) {
	return fn.SDL_OpenAudioDevice(device, iscapture, desired, obtained, allowed_changes);
}
void pSDL_CloseAudioDevice(psdl_audio_device_id dev) { fn.SDL_CloseAudioDevice(dev); }
void pSDL_PauseAudioDevice(psdl_audio_device_id dev, int pause_on) { fn.SDL_PauseAudioDevice(dev, pause_on); }
uint32_t pSDL_GetQueuedAudioSize(psdl_audio_device_id dev) { return fn.SDL_GetQueuedAudioSize(dev); }
int pSDL_QueueAudio(psdl_audio_device_id dev, const void *data, uint32_t len) {
	return fn.SDL_QueueAudio(dev, data, len);
}
