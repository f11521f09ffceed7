# Packaging checks run by ctest (scripts in tests/packaging/). Each check also
# runs against a deliberately broken copy ("mutant") made here at configure
# time, and must fail on it with the expected message: a check that accepts
# anything would otherwise pass unnoticed.
set(checks ${CMAKE_SOURCE_DIR}/tests/packaging)
set(unit ${CMAKE_CURRENT_SOURCE_DIR}/systemd/mailerd.service)
set(dockerfile ${CMAKE_CURRENT_SOURCE_DIR}/docker/Dockerfile)
set(compose ${CMAKE_CURRENT_SOURCE_DIR}/docker/compose.yaml)
set(mutants ${CMAKE_CURRENT_BINARY_DIR}/mutants)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${unit} ${dockerfile} ${compose})

# mailer_mutant(SOURCE OUTPUT FROM TO): OUTPUT is SOURCE with FROM replaced by TO.
function(mailer_mutant source output from to)
  file(READ ${source} text)
  string(FIND "${text}" "${from}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${source}: '${from}' not found; update packaging_tests.cmake")
  endif()
  string(REPLACE "${from}" "${to}" text "${text}")
  file(WRITE ${output} "${text}")
endfunction()

function(mailer_packaging_test name)
  add_test(NAME "packaging: ${name}" COMMAND ${ARGN})
  set_tests_properties("packaging: ${name}" PROPERTIES SKIP_RETURN_CODE 125 TIMEOUT 300)
endfunction()

# mailer_failing_check(NAME EXPECTED_MESSAGE COMMAND...)
function(mailer_failing_check name expected)
  mailer_packaging_test("${name}" ${checks}/expect_failure.sh "${expected}" ${ARGN})
endfunction()

mailer_packaging_test("systemd unit verifies and stays hardened"
  ${checks}/systemd_unit_test.sh ${unit} $<TARGET_FILE:mailerd> ${example_config})

mailer_mutant(${unit} ${mutants}/typo/mailerd.service
              "ProtectHome=yes" "ProtectHome=yes\nProtectHomes=yes")
mailer_failing_check("systemd check catches an unknown key" "systemd-analyze verify reported"
  ${checks}/systemd_unit_test.sh ${mutants}/typo/mailerd.service $<TARGET_FILE:mailerd>
  ${example_config})

mailer_mutant(${unit} ${mutants}/weak/mailerd.service
              "ProtectHome=yes\nPrivateTmp=yes\nPrivateMounts=yes\nPrivateDevices=yes\n" "")
mailer_failing_check("systemd check catches weaker hardening" "exposure above"
  ${checks}/systemd_unit_test.sh ${mutants}/weak/mailerd.service $<TARGET_FILE:mailerd>
  ${example_config})

mailer_mutant(${unit} ${mutants}/short-stop/mailerd.service
              "TimeoutStopSec=60s" "TimeoutStopSec=30s")
mailer_failing_check("systemd check catches a stop timeout below the grace period"
  "must exceed shutdown_grace_seconds"
  ${checks}/systemd_unit_test.sh ${mutants}/short-stop/mailerd.service $<TARGET_FILE:mailerd>
  ${example_config})

# One cpack run (a fixture) makes the packages the next checks read.
set(debs ${CMAKE_CURRENT_BINARY_DIR}/debs)
mailer_packaging_test("build the Debian packages" ${checks}/deb_build.sh ${CMAKE_BINARY_DIR} ${debs})
set_tests_properties("packaging: build the Debian packages" PROPERTIES FIXTURES_SETUP mailer_debs)

mailer_packaging_test("Debian packages: contents, fields, scripts and lintian"
  ${checks}/deb_test.sh ${debs} ${PROJECT_VERSION} ${CMAKE_SOURCE_DIR})
mailer_packaging_test("Debian packages: binaries are hardened" ${checks}/hardening_test.sh ${debs})
set_tests_properties("packaging: Debian packages: contents, fields, scripts and lintian"
                     "packaging: Debian packages: binaries are hardened"
                     PROPERTIES FIXTURES_REQUIRED mailer_debs)
# lintian alone takes minutes on a busy machine.
set_tests_properties("packaging: Debian packages: contents, fields, scripts and lintian"
                     PROPERTIES TIMEOUT 900)

# The mutant of the hardening check is a program built the way
# cmake/hardening.cmake prevents: no stack protector, no FORTIFY, lazy
# binding without RELRO. It is not installed.
file(WRITE ${mutants}/unhardened.cpp
  "#include <cstdio>\n#include <cstring>\n"
  "int main(int argc, char** argv) {\n"
  "  char copy[64];\n  std::strcpy(copy, argv[0]);\n  std::puts(copy);\n  return argc;\n}\n")
add_executable(mailer_unhardened_probe ${mutants}/unhardened.cpp)
target_compile_options(mailer_unhardened_probe PRIVATE -fno-stack-protector -U_FORTIFY_SOURCE)
target_link_options(mailer_unhardened_probe PRIVATE -Wl,-z,norelro -Wl,-z,lazy)
mailer_failing_check("hardening check catches an unhardened binary" "lacks full RELRO"
  ${checks}/hardening_test.sh $<TARGET_FILE:mailer_unhardened_probe>)

mailer_packaging_test("Docker image and compose file: packages, pinning, locked down"
  ${checks}/docker_test.sh ${CMAKE_SOURCE_DIR}/Makefile ${dockerfile} ${compose})

mailer_mutant(${dockerfile} ${mutants}/Dockerfile " libcsv-dev" "")
mailer_failing_check("Docker check catches a package list drift" "differ from the Makefile"
  ${checks}/docker_test.sh ${CMAKE_SOURCE_DIR}/Makefile ${mutants}/Dockerfile ${compose})

mailer_mutant(${dockerfile} ${mutants}/root/Dockerfile "USER 10001:10001\nEXPOSE 8080" "USER mailerd\nEXPOSE 8080")
mailer_failing_check("Docker check catches a user that is not the fixed uid" "lacks /^USER 10001:10001$/"
  ${checks}/docker_test.sh ${CMAKE_SOURCE_DIR}/Makefile ${mutants}/root/Dockerfile ${compose})

# The last FROM (the runtime stage) without its digest.
file(READ ${dockerfile} pinned)
string(REGEX REPLACE "(\nFROM [^@\n]*)@sha256:[0-9a-f]+\n" "\\1\n" unpinned "${pinned}")
if(unpinned STREQUAL pinned)
  message(FATAL_ERROR "${dockerfile}: no FROM line ending in a digest; update packaging_tests.cmake")
endif()
file(WRITE ${mutants}/unpinned/Dockerfile "${unpinned}")
mailer_failing_check("Docker check catches a base image without a digest" "not pinned by digest"
  ${checks}/docker_test.sh ${CMAKE_SOURCE_DIR}/Makefile ${mutants}/unpinned/Dockerfile ${compose})

mailer_mutant(${compose} ${mutants}/writable/compose.yaml "  read_only: true\n" "  read_only: false\n")
mailer_failing_check("Docker check catches a writable root file system" "read_only is not true"
  ${checks}/docker_test.sh ${CMAKE_SOURCE_DIR}/Makefile ${dockerfile} ${mutants}/writable/compose.yaml)

mailer_mutant(${compose} ${mutants}/caps/compose.yaml "  cap_drop: [ALL]\n" "  cap_drop: [NET_RAW]\n")
mailer_failing_check("Docker check catches capabilities left" "cap_drop is not [ALL]"
  ${checks}/docker_test.sh ${CMAKE_SOURCE_DIR}/Makefile ${dockerfile} ${mutants}/caps/compose.yaml)
