# Helpers that give every meshwork target the same warnings, sanitizers and include layout.

set(MESHWORK_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)
if(MESHWORK_SANITIZE)
  set(MESHWORK_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${MESHWORK_SANITIZER_FLAGS})
  add_link_options(${MESHWORK_SANITIZER_FLAGS})
endif()

# meshwork_library(name SOURCES ... DEPS ...): one library per folder under src/, included as
# "<folder>/<header>.h" from the src root.
function(meshwork_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(meshwork_${name} STATIC ${ARG_SOURCES})
  add_library(meshwork::${name} ALIAS meshwork_${name})
  target_include_directories(meshwork_${name} PUBLIC "${PROJECT_SOURCE_DIR}/src" "${PROJECT_BINARY_DIR}/src")
  target_compile_options(meshwork_${name} PRIVATE ${MESHWORK_WARNINGS})
  target_link_libraries(meshwork_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# meshwork_test(name SOURCES ... DEPS ...): one GoogleTest executable per module, registered with
# CTest test by test so failures are reported by name.
function(meshwork_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${MESHWORK_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} meshwork_testing GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${ARG_LABELS}" ENVIRONMENT "MESHWORK_SHARED_DIR=${PROJECT_SOURCE_DIR}/../shared")
endfunction()
