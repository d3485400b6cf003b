"""Text helpers below every stage: dates and relative dates (Gregorian, Hijri month names, Jalali), folding for
matching (textnorm), names and their particles, the token estimate. They know no article, answer or brief."""
