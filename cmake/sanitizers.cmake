# BAOFEED_SANITIZE=ON builds everything with ASan + UBSan; UBSan findings abort.
if(BAOFEED_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
