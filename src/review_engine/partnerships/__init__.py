"""Safeguarding Children Partnerships: the tenants every case belongs to."""
