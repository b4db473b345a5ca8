/* certmapctl import pam_pkcs11 (work in progress). */
#include "config.h"

#include "cli.h"
#include "import_common.h"

int imp_pkcs11(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("import pam_pkcs11: not implemented yet");
	return CLI_USAGE;
}
