# One switch for the whole tree: -DSTROWGER_SANITIZE=address,undefined. The test build uses it so
# that unit tests and the integration tests (which drive the real binary) run instrumented.
if(STROWGER_SANITIZE)
  add_compile_options(-fsanitize=${STROWGER_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=${STROWGER_SANITIZE})
endif()
