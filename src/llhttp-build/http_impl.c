/* Compiles llhttp's http.c from the installed package (configure finds it);
 * llhttp's code is not copied into this repository. */
#include "http.c"
