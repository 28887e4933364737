# Enforces the folder layering of DESIGN.md §2; run by the build.
#
#   cmake -DMODE=includes -DSRC=<source dir> -DSTAMP=<file> -P check_layers.cmake
#   cmake -DMODE=symbols -DSRC=<source dir> -DOBJECTS=<file> -DNM=<nm> -DSTAMP=<file> -P ...
#
# includes: every `#include "X/..."` of src/FOLDER/* and include/firn/* must
# name a folder (or a public header's layer) at or below FOLDER's layer.
# The include path cannot say this: everything includes relative to src/.
# symbols: every symbol an object of FOLDER leaves undefined must not be
# defined by an object of a higher folder, nor of a lower one FOLDER does
# not list in FIRN_USES_FOLDER. OBJECTS is a file of lines
# "FOLDER=obj;obj;...". Both write STAMP only when clean, so a failed check
# runs again on the next build.
cmake_minimum_required(VERSION 3.20)
include(${CMAKE_CURRENT_LIST_DIR}/FirnLayers.cmake)

set(layer_index 0)
foreach(l ${FIRN_LAYERS})
	set(rank_${l} ${layer_index})
	math(EXPR layer_index "${layer_index} + 1")
endforeach()

set(problems "")
set(used_exceptions "")

# The layer of a public header name ("table" for firn/table.h), in out.
function(header_layer name out)
	if(DEFINED FIRN_HEADER_LAYER_${name})
		set(${out} ${FIRN_HEADER_LAYER_${name}} PARENT_SCOPE)
	elseif(DEFINED rank_${name})
		set(${out} ${name} PARENT_SCOPE)
	else()
		set(${out} "" PARENT_SCOPE)
	endif()
endfunction()

# Checks the includes of one file that belongs to layer `layer`.
macro(check_file file layer)
	file(RELATIVE_PATH rel ${SRC} ${file})
	file(STRINGS ${file} lines REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<]")
	foreach(line IN LISTS lines)
		if(NOT line MATCHES "#[ \t]*include[ \t]*[\"<]([^\">]+)[\">]")
			continue()
		endif()
		set(inc ${CMAKE_MATCH_1})
		set(target "")
		if(inc MATCHES "^firn/([A-Za-z0-9_]+)\\.h$")
			header_layer(${CMAKE_MATCH_1} target)
			if(target STREQUAL "")
				string(APPEND problems "${rel}: ${inc}: a public header with no layer "
					"(add it to cmake/FirnLayers.cmake)\n")
				continue()
			endif()
		elseif(line MATCHES "<")
			continue() # system header
		elseif(inc MATCHES "\\.\\.")
			string(APPEND problems "${rel}: ${inc}: include by a relative path\n")
			continue()
		elseif(inc MATCHES "^([^/]+)/")
			set(target ${CMAKE_MATCH_1})
			if(NOT DEFINED rank_${target})
				string(APPEND problems "${rel}: ${inc}: not a folder of src/\n")
				continue()
			endif()
			list(FIND FIRN_PUBLIC_API_ONLY ${layer} pub)
			if(pub GREATER -1 AND NOT target STREQUAL layer)
				string(APPEND problems "${rel}: ${inc}: ${layer} uses the public API only\n")
				continue()
			endif()
		else()
			continue() # the folder's own header
		endif()
		if(rank_${target} GREATER rank_${layer})
			list(FIND FIRN_LAYER_INCLUDE_EXCEPTIONS "${rel}:${inc}" known)
			if(known GREATER -1)
				list(APPEND used_exceptions "${rel}:${inc}")
			else()
				string(APPEND problems "${rel}: includes ${inc} (${target}), "
					"above its layer ${layer}\n")
			endif()
		endif()
	endforeach()
endmacro()

# Every function a public header declares carries FIRN_API: without it the
# function is hidden in libfirn.so. Declarations start in column 0 (comment
# lines start with a space or a slash, macros with #).
macro(check_exported file)
	file(RELATIVE_PATH rel ${SRC} ${file})
	file(STRINGS ${file} decls REGEX "^[A-Za-z_][A-Za-z0-9_ *]*[ *]firn_[A-Za-z0-9_]+[ \t]*\\(")
	foreach(d IN LISTS decls)
		if(NOT d MATCHES "^(FIRN_API |static |typedef |extern )")
			string(APPEND problems "${rel}: public declaration without FIRN_API: ${d}\n")
		endif()
	endforeach()
endmacro()

function(write_stamp)
	file(WRITE ${STAMP} "ok\n")
endfunction()

# Entries of `list` that `used` does not hold: exceptions to delete.
function(report_stale list used)
	foreach(e IN LISTS ${list})
		list(FIND ${used} "${e}" i)
		if(i EQUAL -1)
			message(NOTICE "check_layers: exception ${e} no longer needed: "
				"delete it from cmake/FirnLayers.cmake")
		endif()
	endforeach()
endfunction()

if(MODE STREQUAL "includes")
	foreach(l ${FIRN_LAYERS})
		file(GLOB files ${SRC}/src/${l}/*.c ${SRC}/src/${l}/*.h)
		foreach(f IN LISTS files)
			check_file(${f} ${l})
		endforeach()
	endforeach()
	file(GLOB headers ${SRC}/include/firn/*.h)
	set(umbrella "")
	foreach(f IN LISTS headers)
		get_filename_component(name ${f} NAME_WE)
		header_layer(${name} l)
		if(l STREQUAL "")
			string(APPEND problems "include/firn/${name}.h: a public header with no layer "
				"(add it to cmake/FirnLayers.cmake)\n")
			continue()
		endif()
		check_file(${f} ${l})
		check_exported(${f})
		if(NOT name STREQUAL "firn")
			list(APPEND umbrella ${name})
		endif()
	endforeach()
	# firn.h promises the whole API in one include.
	file(STRINGS ${SRC}/include/firn/firn.h firn_h REGEX "#include")
	foreach(name IN LISTS umbrella)
		if(NOT firn_h MATCHES "firn/${name}\\.h")
			string(APPEND problems "include/firn/firn.h: does not include firn/${name}.h\n")
		endif()
	endforeach()
	report_stale(FIRN_LAYER_INCLUDE_EXCEPTIONS used_exceptions)
elseif(MODE STREQUAL "symbols")
	file(STRINGS ${OBJECTS} groups)
	set(present "")
	# Pass 1: which folder defines each global symbol.
	foreach(g IN LISTS groups)
		string(REGEX REPLACE "=.*" "" folder "${g}")
		string(REGEX REPLACE "^[^=]*=" "" objs "${g}")
		list(APPEND present ${folder})
		execute_process(COMMAND ${NM} -P ${objs} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
		if(NOT rc EQUAL 0)
			message(FATAL_ERROR "check_layers: ${NM} failed on ${folder}")
		endif()
		string(REGEX MATCHALL "[^\n]+" lines "${out}")
		set(undef_${folder} "")
		foreach(line IN LISTS lines)
			if(line MATCHES "^([A-Za-z_][A-Za-z0-9_.]*) ([A-Za-z])")
				set(sym ${CMAKE_MATCH_1})
				set(type ${CMAKE_MATCH_2})
				if(type STREQUAL "U")
					list(APPEND undef_${folder} ${sym})
				elseif(type MATCHES "^[A-TV-Z]$")
					set(def_${sym} ${folder})
				endif()
			endif()
		endforeach()
	endforeach()
	# Pass 2: no folder may need a symbol of a folder above it.
	foreach(folder IN LISTS present)
		list(REMOVE_DUPLICATES undef_${folder})
		foreach(sym IN LISTS undef_${folder})
			if(NOT DEFINED def_${sym})
				continue() # libc, zstd, sqlite3, ...
			endif()
			set(owner ${def_${sym}})
			if(owner STREQUAL folder)
				continue()
			endif()
			list(FIND FIRN_USES_${folder} ${owner} linked)
			if(rank_${owner} LESS rank_${folder} AND linked GREATER -1)
				continue()
			endif()
			list(FIND FIRN_LAYER_SYMBOL_EXCEPTIONS "${folder}:${sym}" known)
			if(known GREATER -1)
				list(APPEND used_exceptions "${folder}:${sym}")
			elseif(rank_${owner} GREATER rank_${folder})
				string(APPEND problems "src/${folder} uses ${sym}, defined in "
					"src/${owner} above it\n")
			else()
				string(APPEND problems "src/${folder} uses ${sym} of src/${owner}, which "
					"it does not link (FIRN_USES_${folder} in cmake/FirnLayers.cmake)\n")
			endif()
		endforeach()
	endforeach()
	report_stale(FIRN_LAYER_SYMBOL_EXCEPTIONS used_exceptions)
else()
	message(FATAL_ERROR "check_layers: MODE must be includes or symbols")
endif()

if(NOT problems STREQUAL "")
	message(NOTICE "${problems}")
	message(FATAL_ERROR "check_layers: the lines above break the folder layering "
		"(DESIGN.md §2) or the FIRN_API rule; known exceptions are in cmake/FirnLayers.cmake")
endif()
write_stamp()
