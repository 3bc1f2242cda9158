# BAOFEED_SANITIZE=ON builds everything with ASan + UBSan; UBSan findings abort.
if(BAOFEED_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
  # GCC 12's flow analysis gives false maybe-uninitialized warnings inside libstdc++ (std::regex)
  # once the sanitizers instrument it; the normal build keeps the warning.
  add_compile_options(-Wno-maybe-uninitialized)
endif()
