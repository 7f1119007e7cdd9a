/* SPDX-License-Identifier: GPL-2.0 */
/* The IDL texts GetInterfaceDescription returns (control-idl.c). */
#ifndef SCX_AI_NUMA_CONTROL_IDL_H
#define SCX_AI_NUMA_CONTROL_IDL_H

/* org.varlink.service, as this service implements it. */
extern const char control_idl_service[];
/* Our own interface, VL_IFACE. */
extern const char control_idl_iface[];

#endif
