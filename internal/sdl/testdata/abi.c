// Checks shim.h against SDL2's own headers: every constant, every field's
// offset and every structure's size, and every function's prototype. It
// is only compiled (TestABI: cc -fsyntax-only -Werror), never run: a
// mismatch is a compile error naming what differs.

#include <stddef.h>
#include <SDL.h>

#include "../shim.h"

#define SAME(a, b) _Static_assert((a) == (b), #a " is not " #b)

SAME(PSDL_INIT_AUDIO, SDL_INIT_AUDIO);
SAME(PSDL_INIT_VIDEO, SDL_INIT_VIDEO);
SAME(PSDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED);
SAME(PSDL_WINDOW_FULLSCREEN, SDL_WINDOW_FULLSCREEN);
SAME(PSDL_WINDOW_HIDDEN, SDL_WINDOW_HIDDEN);
SAME(PSDL_WINDOW_RESIZABLE, SDL_WINDOW_RESIZABLE);
SAME(PSDL_WINDOW_FULLSCREEN_DESKTOP, SDL_WINDOW_FULLSCREEN_DESKTOP);
SAME(PSDL_WINDOWEVENT, SDL_WINDOWEVENT);
SAME(PSDL_KEYDOWN, SDL_KEYDOWN);
SAME(PSDL_MOUSEBUTTONDOWN, SDL_MOUSEBUTTONDOWN);
SAME(PSDL_WINDOWEVENT_SHOWN, SDL_WINDOWEVENT_SHOWN);
SAME(PSDL_WINDOWEVENT_EXPOSED, SDL_WINDOWEVENT_EXPOSED);
SAME(PSDL_WINDOWEVENT_SIZE_CHANGED, SDL_WINDOWEVENT_SIZE_CHANGED);
SAME(PSDL_WINDOWEVENT_CLOSE, SDL_WINDOWEVENT_CLOSE);
SAME(PSDL_K_ESCAPE, SDLK_ESCAPE);
SAME(PSDL_K_F, SDLK_f);
SAME(PSDL_K_M, SDLK_m);
SAME(PSDL_K_Q, SDLK_q);
SAME(PSDL_K_S, SDLK_s);
SAME(PSDL_BUTTON_LEFT, SDL_BUTTON_LEFT);
SAME(PSDL_PIXELFORMAT_IYUV, SDL_PIXELFORMAT_IYUV);
SAME(PSDL_PIXELFORMAT_RGBA32, SDL_PIXELFORMAT_RGBA32);
SAME(PSDL_TEXTUREACCESS_STATIC, SDL_TEXTUREACCESS_STATIC);
SAME(PSDL_TEXTUREACCESS_STREAMING, SDL_TEXTUREACCESS_STREAMING);
SAME(PSDL_BLENDMODE_BLEND, SDL_BLENDMODE_BLEND);
SAME(PSDL_HINT_OVERRIDE, SDL_HINT_OVERRIDE);
SAME(PSDL_AUDIO_S16LSB, AUDIO_S16LSB);

SAME(sizeof(psdl_bool), sizeof(SDL_bool));
SAME(sizeof(psdl_hint_priority), sizeof(SDL_HintPriority));
SAME(sizeof(psdl_blend_mode), sizeof(SDL_BlendMode));
SAME(sizeof(psdl_audio_device_id), sizeof(SDL_AudioDeviceID));

// A structure: the same size, and each named field at the same offset
// with the same size.
#define FIELD(ours, theirs, f, g)                                   \
	SAME(offsetof(ours, f), offsetof(theirs, g));                   \
	SAME(sizeof(((ours *)0)->f), sizeof(((theirs *)0)->g))

SAME(sizeof(psdl_version), sizeof(SDL_version));
FIELD(psdl_version, SDL_version, major, major);
FIELD(psdl_version, SDL_version, minor, minor);
FIELD(psdl_version, SDL_version, patch, patch);

SAME(sizeof(psdl_rect), sizeof(SDL_Rect));
FIELD(psdl_rect, SDL_Rect, x, x);
FIELD(psdl_rect, SDL_Rect, y, y);
FIELD(psdl_rect, SDL_Rect, w, w);
FIELD(psdl_rect, SDL_Rect, h, h);

SAME(sizeof(psdl_renderer_info), sizeof(SDL_RendererInfo));
FIELD(psdl_renderer_info, SDL_RendererInfo, name, name);
FIELD(psdl_renderer_info, SDL_RendererInfo, flags, flags);
FIELD(psdl_renderer_info, SDL_RendererInfo, num_texture_formats, num_texture_formats);
FIELD(psdl_renderer_info, SDL_RendererInfo, texture_formats, texture_formats);
FIELD(psdl_renderer_info, SDL_RendererInfo, max_texture_width, max_texture_width);
FIELD(psdl_renderer_info, SDL_RendererInfo, max_texture_height, max_texture_height);

SAME(sizeof(psdl_audio_spec), sizeof(SDL_AudioSpec));
FIELD(psdl_audio_spec, SDL_AudioSpec, freq, freq);
FIELD(psdl_audio_spec, SDL_AudioSpec, format, format);
FIELD(psdl_audio_spec, SDL_AudioSpec, channels, channels);
FIELD(psdl_audio_spec, SDL_AudioSpec, silence, silence);
FIELD(psdl_audio_spec, SDL_AudioSpec, samples, samples);
FIELD(psdl_audio_spec, SDL_AudioSpec, size, size);
FIELD(psdl_audio_spec, SDL_AudioSpec, callback, callback);
FIELD(psdl_audio_spec, SDL_AudioSpec, userdata, userdata);

SAME(sizeof(psdl_event), sizeof(SDL_Event));
FIELD(psdl_event, SDL_Event, type, type);
FIELD(psdl_event, SDL_Event, window.window_id, window.windowID);
FIELD(psdl_event, SDL_Event, window.event, window.event);
FIELD(psdl_event, SDL_Event, key.window_id, key.windowID);
FIELD(psdl_event, SDL_Event, key.repeat, key.repeat);
FIELD(psdl_event, SDL_Event, key.keysym.sym, key.keysym.sym);
FIELD(psdl_event, SDL_Event, button.window_id, button.windowID);
FIELD(psdl_event, SDL_Event, button.button, button.button);
FIELD(psdl_event, SDL_Event, button.clicks, button.clicks);
FIELD(psdl_event, SDL_Event, user.type, user.type);
FIELD(psdl_event, SDL_Event, user.window_id, user.windowID);
FIELD(psdl_event, SDL_Event, user.data2, user.data2);

// Prototypes: each entry of PSDL_FUNCS, with shim.h's types read as
// SDL's, initialises a pointer to SDL's function; with -Werror a
// parameter or result that differs fails to compile.
#define psdl_window SDL_Window
#define psdl_renderer SDL_Renderer
#define psdl_texture SDL_Texture
#define psdl_bool SDL_bool
#define psdl_hint_priority SDL_HintPriority
#define psdl_blend_mode SDL_BlendMode
#define psdl_audio_device_id SDL_AudioDeviceID
#define psdl_version SDL_version
#define psdl_rect SDL_Rect
#define psdl_renderer_info SDL_RendererInfo
#define psdl_audio_spec SDL_AudioSpec
#define psdl_event SDL_Event
#define PROTOTYPE(ret, name, params) ret(*const check_##name) params = name;
PSDL_FUNCS(PROTOTYPE)
