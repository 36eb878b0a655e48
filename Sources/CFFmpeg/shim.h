// System-library shim for FFmpeg (H.264 encoding and MP4 muxing; decoding in tests).
// No Swift API lives here except the wrappers below, which give Swift the values of
// FFmpeg macros that do not import (they expand to function-like macros or casts).
#include <errno.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

/// AVERROR(EAGAIN): the encoder or decoder wants more input before it has output.
static inline int cffmpeg_error_again(void) { return AVERROR(EAGAIN); }

/// AVERROR_EOF: the encoder or decoder is fully drained, or the input has ended.
static inline int cffmpeg_error_eof(void) { return AVERROR_EOF; }

/// AV_NOPTS_VALUE: "no timestamp".
static inline int64_t cffmpeg_no_timestamp(void) { return AV_NOPTS_VALUE; }
