#include "detector/sidecar_files.h"
