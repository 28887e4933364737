/* firn: FIRN_API, the mark on every public declaration.
 *
 * libfirn is compiled with -fvisibility=hidden, so only what carries this
 * mark is exported from libfirn.so; everything else (the firn_x__y
 * functions shared between the library's own files, the per-module
 * helpers) stays internal. Consumers define nothing: for them the mark
 * is harmless, it only decides visibility while libfirn is compiled. */
#ifndef FIRN_EXPORT_H
#define FIRN_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define FIRN_API __attribute__((visibility("default")))
#else
#define FIRN_API
#endif

#endif
