/* Compiles llhttp's llhttp.c from the installed package (configure finds it);
 * llhttp's code is not copied into this repository. */
#include "llhttp.c"
