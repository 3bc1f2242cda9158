# baofeed_warnings(<target>): the project's warning set, applied to our own targets only.
function(baofeed_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wpedantic)
  if(BAOFEED_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
