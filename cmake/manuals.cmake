# Manual pages and shell completion, made from the built programs so they
# cannot drift from what the programs accept: help2man (Debian's tool for
# exactly this) turns each program's --help and --version into a man page,
# and mailerctl prints its own completion scripts. The Debian packages
# install them; `make deps` installs help2man. Without help2man the build
# still works, with no manual pages.
find_program(HELP2MAN help2man)
set(MAILER_MANUALS_DIR ${CMAKE_BINARY_DIR}/manuals)
file(MAKE_DIRECTORY ${MAILER_MANUALS_DIR})

# mailer_manual(TARGET COMPONENT NAME HELP_OPTION): TARGET.1.gz, gzipped
# without a time stamp as Debian policy 12.1 wants, in the COMPONENT package,
# with the sections of packaging/man/TARGET.h2m added. help2man dates the
# page by SOURCE_DATE_EPOCH when it is set.
function(mailer_manual target component name help_option)
  set(page ${MAILER_MANUALS_DIR}/${target}.1.gz)
  set(include ${CMAKE_SOURCE_DIR}/packaging/man/${target}.h2m)
  add_custom_command(OUTPUT ${page}
    COMMAND ${HELP2MAN} --no-info --section=1 --name=${name} --help-option=${help_option}
            --include=${include} --output=${MAILER_MANUALS_DIR}/${target}.1 $<TARGET_FILE:${target}>
    COMMAND gzip -9nf ${MAILER_MANUALS_DIR}/${target}.1
    DEPENDS ${target} ${include} VERBATIM COMMENT "Writing the manual page of ${target}")
  add_custom_target(${target}_manual ALL DEPENDS ${page})
  install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT ${component})
endfunction()

if(HELP2MAN AND NOT MAILER_FUZZ)
  mailer_manual(mailerd mailerd "send email through Amazon SES: HTTP API, job queue and workers" --help)
  mailer_manual(mailerctl mailerd "administer a mailerd database" --help-all)
  mailer_manual(mailer-fake-ses tools "a local Amazon SES v2 endpoint for tests" --help)
elseif(NOT HELP2MAN)
  message(STATUS "help2man not found: no manual pages (make deps installs it)")
endif()

set(bash_completion ${MAILER_MANUALS_DIR}/bash/mailerctl)
set(zsh_completion ${MAILER_MANUALS_DIR}/zsh/_mailerctl)
add_custom_command(OUTPUT ${bash_completion} ${zsh_completion}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${MAILER_MANUALS_DIR}/bash ${MAILER_MANUALS_DIR}/zsh
  COMMAND sh -c "\"$0\" completion bash > \"$1\" && \"$0\" completion zsh > \"$2\""
          $<TARGET_FILE:mailerctl> ${bash_completion} ${zsh_completion}
  DEPENDS mailerctl VERBATIM COMMENT "Writing mailerctl's shell completion")
add_custom_target(mailerctl_completion ALL DEPENDS ${bash_completion} ${zsh_completion})
install(FILES ${bash_completion} DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions
        COMPONENT mailerd)
install(FILES ${zsh_completion} DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/zsh/vendor-completions
        COMPONENT mailerd)
