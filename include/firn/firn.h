/* firn: the whole public API in one include. Link with libfirn
 * (`pkg-config --cflags --libs firn`). */
#ifndef FIRN_FIRN_H
#define FIRN_FIRN_H

#include "firn/export.h"
#include "firn/error.h"
#include "firn/util.h"
#include "firn/io.h"
#include "firn/arrow.h"
#include "firn/text.h"
#include "firn/parquet.h"
#include "firn/avro.h"
#include "firn/catalog.h"
#include "firn/table.h"
#include "firn/import.h"
#include "firn/input.h"
#include "firn/server.h"

#endif
