# Script mode: cmake -DOUT=<file.c> -DSOURCES="a.cl;b.cl" -P embed_kernels.cmake
# Writes each kernel source as `const char clconv__src_<stem>[]`, bytes in hex so that no escaping can go wrong.
set(body "/* Generated from the kernels/ sources by cmake/embed_kernels.cmake; do not edit. */\n")
foreach(src IN LISTS SOURCES)
  get_filename_component(stem "${src}" NAME_WE)
  file(READ "${src}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" hex "${hex}")
  string(APPEND body "const char clconv__src_${stem}[] = {\n${hex}0x00};\n")
endforeach()
file(WRITE "${OUT}.tmp" "${body}")
configure_file("${OUT}.tmp" "${OUT}" COPYONLY) # leaves an unchanged file untouched
file(REMOVE "${OUT}.tmp")
