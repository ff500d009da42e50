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
  # Boost 1.74 looks for clang's coroutines in libc++'s <experimental/coroutine>
  # only; clang 14 has them in libstdc++'s <coroutine>, as g++ does.
  target_compile_definitions(retrace_settings INTERFACE
    BOOST_ASIO_HAS_CO_AWAIT=1 BOOST_ASIO_HAS_STD_COROUTINE=1)
endif()

# The fuzz build (make fuzz, tests/fuzz/): clang's libFuzzer coverage and
# its sanitizers on every retrace target; the fuzz targets link the driver.
if(RETRACE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "RETRACE_FUZZ needs clang (CXX=clang++-14)")
  endif()
  # (-fno-sanitize=function: clang 14 cannot emit its checks for coroutines,
  # "Cannot represent a difference across sections", llvm-project#49689)
  target_compile_options(retrace_settings INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  target_link_options(retrace_settings INTERFACE -fsanitize=address,undefined)
  # Boost 1.74 looks for clang's coroutines in libc++'s <experimental/coroutine>
  # only; clang 14 has them in libstdc++'s <coroutine>, as g++ does.
  target_compile_definitions(retrace_settings INTERFACE
    BOOST_ASIO_HAS_CO_AWAIT=1 BOOST_ASIO_HAS_STD_COROUTINE=1)
endif()
