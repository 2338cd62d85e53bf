# Bundles a web app's ES modules and the npm packages they import into one file, minified,
# for the browsers of the last few years (no CDN, nothing fetched at run time).
#   cmake -DESBUILD=<node_modules/.bin/esbuild> -DENTRY=<main.js> -DOUTPUT=<bundle.js>
#         -P bundle_web.cmake
if(NOT EXISTS "${ESBUILD}")
  get_filename_component(bin "${ESBUILD}" DIRECTORY)
  get_filename_component(modules "${bin}" DIRECTORY)
  get_filename_component(app "${modules}" DIRECTORY)
  message(FATAL_ERROR "esbuild is not installed in ${app}: run `npm ci --prefix ${app}` "
                      "(scripts/setup.sh does)")
endif()
execute_process(
  COMMAND "${ESBUILD}" "${ENTRY}" --bundle --format=esm --minify --target=es2020
          --legal-comments=eof --log-level=warning "--outfile=${OUTPUT}"
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "esbuild failed (${result}) on ${ENTRY}")
endif()
