/* Plain-language warnings derived from a snapshot's numbers, each with
 * its evidence; fills s->insights. Observer thread. */
#ifndef TL_OBSERVER_INSIGHTS_H
#define TL_OBSERVER_INSIGHTS_H

#include "base/buf.h"
#include "observer/snapshot.h"

void tl_insights_derive(tl_snapshot *s);

#endif
