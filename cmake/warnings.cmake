# Warnings for our own targets only; third-party headers come in as SYSTEM includes.
add_library(strowger_warnings INTERFACE)
target_compile_options(strowger_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wconversion -Wsign-conversion -Wdouble-promotion
  -Wimplicit-fallthrough)
