# The folders of src/, lowest layer first (DESIGN.md §2): a folder may use
# its own layer and the ones before it, never one after it. Folders that do
# not exist yet (text, server) keep their place so the rules hold the day
# they appear. server sits below cli because `firn serve` starts it.
set(FIRN_LAYERS util arrow io text parquet avro puffin iceberg catalog input server cli)

# The folders each folder uses directly: the links of its library, and the
# only folders whose functions it may call (the build checks both ways: a
# use must point down, and a call into a folder not listed here fails).
set(FIRN_USES_arrow util)
set(FIRN_USES_io util)
set(FIRN_USES_text util arrow io)
set(FIRN_USES_parquet util arrow io)
set(FIRN_USES_avro util io)
set(FIRN_USES_puffin util io)
set(FIRN_USES_iceberg util arrow io text parquet avro puffin)
set(FIRN_USES_catalog util io parquet iceberg)
set(FIRN_USES_input util arrow io text parquet iceberg)
set(FIRN_USES_server util io iceberg catalog)

# The layer each public header belongs to (include/firn/NAME.h). A header
# not listed here belongs to the folder of its name; one that matches no
# folder fails the check, so a new public header gets a place on purpose.
set(FIRN_HEADER_LAYER_error util)
set(FIRN_HEADER_LAYER_export util)
set(FIRN_HEADER_LAYER_util util)
set(FIRN_HEADER_LAYER_arrow arrow)
set(FIRN_HEADER_LAYER_text text)
set(FIRN_HEADER_LAYER_parquet parquet)
set(FIRN_HEADER_LAYER_avro avro)
set(FIRN_HEADER_LAYER_puffin puffin)
set(FIRN_HEADER_LAYER_table iceberg)
set(FIRN_HEADER_LAYER_catalog iceberg)
set(FIRN_HEADER_LAYER_import iceberg)
set(FIRN_HEADER_LAYER_input input)
set(FIRN_HEADER_LAYER_io io)
set(FIRN_HEADER_LAYER_server server)
set(FIRN_HEADER_LAYER_firn cli)

# Folders that use libfirn through its public headers only (DESIGN.md §1).
set(FIRN_PUBLIC_API_ONLY cli server)

# ---- known violations, allowed until the moves that end them land -------
# Each entry is exactly one violation; the check fails on any other, and
# says when an entry no longer matches anything (then delete it).

# Upward includes, "FILE:HEADER" (FILE relative to the source tree).
set(FIRN_LAYER_INCLUDE_EXCEPTIONS
)

# Upward symbol references, "FOLDER:SYMBOL" (FOLDER uses SYMBOL, which a
# higher folder defines).
set(FIRN_LAYER_SYMBOL_EXCEPTIONS
)
