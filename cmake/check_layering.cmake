# cmake -DGRAPH=build/layers/graph.cmake -DSOURCE_DIR=. -P check_layering.cmake
#
# Fails, naming file and line, when a layer includes a header of a layer it
# may not use. GRAPH is written by CMakeLists.txt (mailer_layer), so this check
# and the per-layer include roots the compiler sees follow one declaration.
# Two forms are checked:
#   #include "mailer/X/..." (or <...>)  X must be the layer or one it may use,
#                                       directly or through the layers it uses;
#   #include "X/..."                    a private header: X must be the layer.
# Angle-bracket includes without mailer/ are system headers (<net/if.h>) and
# are not ours to check.
cmake_minimum_required(VERSION 3.25)
include(${GRAPH})

# Every layer `name` may use: its LAYERS and, recursively, theirs.
function(layer_closure name out)
  set(seen "")
  set(todo ${MAILER_LAYER_USES_${name}})
  while(todo)
    list(POP_FRONT todo next)
    if(NOT next IN_LIST seen)
      list(APPEND seen ${next})
      list(APPEND todo ${MAILER_LAYER_USES_${next}})
    endif()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

set(violations 0)
foreach(layer ${MAILER_LAYERS})
  layer_closure(${layer} allowed)
  file(GLOB_RECURSE files ${SOURCE_DIR}/src/${layer}/* ${SOURCE_DIR}/include/mailer/${layer}/*)
  foreach(file ${files})
    file(STRINGS ${file} lines REGEX "^[ \t]*#[ \t]*include")
    foreach(line ${lines})
      set(used "")
      if(line MATCHES "include[ \t]*[<\"]mailer/([a-z_]+)/")
        set(used ${CMAKE_MATCH_1})
        if(used STREQUAL layer OR used IN_LIST allowed)
          continue()
        endif()
      elseif(line MATCHES "include[ \t]*\"([a-z_]+)/" AND CMAKE_MATCH_1 IN_LIST MAILER_LAYERS)
        set(used ${CMAKE_MATCH_1})
        if(used STREQUAL layer)
          continue()
        endif()
      else()
        continue()
      endif()
      file(RELATIVE_PATH shown ${SOURCE_DIR} ${file})
      message("${shown}: layer ${layer} may not include ${used} (${line}); "
              "${layer} may use: ${allowed}")
      math(EXPR violations "${violations} + 1")
    endforeach()
  endforeach()
endforeach()

if(violations GREATER 0)
  message(FATAL_ERROR "${violations} include(s) against the layering declared in CMakeLists.txt")
endif()
message(STATUS "layering: every include follows the declared layers (${MAILER_LAYERS})")
