# Compiler settings and warnings live on INTERFACE targets that every
# retrace target links, rather than in global variables.
add_library(retrace_settings INTERFACE)
target_compile_features(retrace_settings INTERFACE cxx_std_20)
target_compile_options(retrace_settings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Wno-missing-field-initializers)
target_compile_definitions(retrace_settings INTERFACE
  RETRACE_VERSION="${PROJECT_VERSION}")

if(RETRACE_SANITIZE)
  target_compile_options(retrace_settings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(retrace_settings INTERFACE -fsanitize=address,undefined)
endif()
