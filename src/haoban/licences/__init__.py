"""Electronic licences (电子证照): results of catalogue items, verifiable by anyone holding the code."""
