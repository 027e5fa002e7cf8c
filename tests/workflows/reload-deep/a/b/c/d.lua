return { factor = 2 }
