{
  # Built by node-gyp on `npm install`; CMakeLists.txt builds the same sources (native/sources.js lists them
  # for both) with cmake-js. Keep the defines and flags of the two files in step.
  "targets": [
    {
      "target_name": "sockfd",
      # The sources: native/sources.js prints the one list both builds read (CMakeLists.txt runs it too).
      "sources": ["<!@(node native/sources.js <(OS))"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: in an environment that is stopping (a worker being terminated)
      # Node-API refuses to throw; without it node-addon-api then aborts the process (see native/common.h).
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED",
                  "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      }
    }
  ]
}
