/* The version strings. */
#include "firn/util.h"

#ifndef FIRN_VERSION
#define FIRN_VERSION "0.0.0"
#endif
#ifndef FIRN_BUILD_HASH
#define FIRN_BUILD_HASH "unknown"
#endif

const char *firn_version(void) { return FIRN_VERSION; }
const char *firn_created_by(void) { return "firn version " FIRN_VERSION " (build " FIRN_BUILD_HASH ")"; }
