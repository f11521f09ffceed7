# Included by CMakeLists.txt when MAILER_HARDENING is on: gives the interface
# target mailer_hardening the distribution's hardening flags, as a Debian
# package built by debhelper would use. Every library and executable that
# ships links it; the tests do not, so their objects stay as they were (and
# in the compiler cache). The flags come from dpkg-buildflags(1) with
# DEB_BUILD_MAINT_OPTIONS=hardening=+all (Debian 12: stack protector
# "strong", _FORTIFY_SOURCE=2, format-string checks, full RELRO and BIND_NOW;
# PIE is the compiler's default), so a newer dpkg brings its newer choices.
# See https://wiki.debian.org/Hardening. Without dpkg-buildflags (another
# distribution), Debian 12's set below is used.
#
# Left out of what dpkg-buildflags prints: -g and -O*, which
# CMAKE_BUILD_TYPE decides, and -ffile-prefix-map, which would name the build
# directory. _FORTIFY_SOURCE needs optimisation (glibc warns, and -Werror
# fails, at -O0), so Debug builds go without it.

set(MAILER_HARDENING_FALLBACK_CPPFLAGS -D_FORTIFY_SOURCE=2)
set(MAILER_HARDENING_FALLBACK_CXXFLAGS -fstack-protector-strong -Wformat -Werror=format-security)
set(MAILER_HARDENING_FALLBACK_LDFLAGS -Wl,-z,relro -Wl,-z,now)

# mailer_dpkg_buildflags(VAR OUT): OUT is the list dpkg-buildflags gives for
# VAR (CPPFLAGS, CXXFLAGS or LDFLAGS) with hardening=+all, minus the flags
# the build type or the build directory decide.
function(mailer_dpkg_buildflags var out)
  find_program(MAILER_DPKG_BUILDFLAGS dpkg-buildflags)
  if(NOT MAILER_DPKG_BUILDFLAGS)
    set(${out} ${MAILER_HARDENING_FALLBACK_${var}} PARENT_SCOPE)
    return()
  endif()
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env DEB_BUILD_MAINT_OPTIONS=hardening=+all
            ${MAILER_DPKG_BUILDFLAGS} --get ${var}
    OUTPUT_VARIABLE text OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
  separate_arguments(flags UNIX_COMMAND "${text}")
  list(FILTER flags EXCLUDE REGEX "^(-g.*|-O.*|-f(file|debug|macro)-prefix-map=.*)$")
  set(${out} ${flags} PARENT_SCOPE)
endfunction()

mailer_dpkg_buildflags(CPPFLAGS MAILER_HARDENING_CPPFLAGS)
mailer_dpkg_buildflags(CXXFLAGS MAILER_HARDENING_CXXFLAGS)
mailer_dpkg_buildflags(LDFLAGS MAILER_HARDENING_LDFLAGS)

foreach(flag IN LISTS MAILER_HARDENING_CPPFLAGS)
  if(flag MATCHES "^-D_FORTIFY_SOURCE")
    target_compile_options(mailer_hardening INTERFACE $<$<NOT:$<CONFIG:Debug>>:${flag}>)
  else()
    target_compile_options(mailer_hardening INTERFACE ${flag})
  endif()
endforeach()
# Position-independent code, so that ASLR moves the program's own code too;
# explicit because not every compiler makes PIE by default as Debian's do.
# The executables link with -pie (POSITION_INDEPENDENT_CODE, CMakeLists.txt).
target_compile_options(mailer_hardening INTERFACE ${MAILER_HARDENING_CXXFLAGS} -fPIE)
target_link_options(mailer_hardening INTERFACE ${MAILER_HARDENING_LDFLAGS})
include(CheckPIESupported)
check_pie_supported()

string(JOIN " " summary ${MAILER_HARDENING_CPPFLAGS} ${MAILER_HARDENING_CXXFLAGS}
       ${MAILER_HARDENING_LDFLAGS})
message(STATUS "Hardening flags: ${summary} -fPIE -pie")
