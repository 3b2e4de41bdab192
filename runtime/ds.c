/*
 * ds.c: the dataspace.  Not implemented yet: only rt_ds_retract_owner exists,
 * because the supervisor calls it on every exit, and with no dataspace in the
 * process there is nothing to retract.  The full dataspace (assertions,
 * subscriptions, snapshots) replaces this file.
 */
#include "runtime.h"

void rt_ds_retract_owner(uint64_t owner)
{
    IVM_UNUSED(owner);
}
