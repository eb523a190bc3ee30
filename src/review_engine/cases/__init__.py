"""Cases: one serious child safeguarding incident, from referral to closure."""
