"""The petition pages, by audience: resident, public, staff (with the staff workbench, intake
and the building plaques, which residents scan too, in their own modules); base holds what the
resident and staff pages share."""
