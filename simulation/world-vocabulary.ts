/**
 * The hand-written vocabulary the embedded world draws its users and their questions from:
 * interests (each tied to the catalog categories that fit it), life situations, places,
 * occupations, and the query templates with their slot fillers. Pure data; world.ts holds the
 * rules that combine it, so the text can be extended without touching the sampling logic.
 */

/** Situation tags that make an interest more (or less) likely for a profile. */
interface Affinity {
  tags: string[];
  /** Weight multiplier when the profile has one of the tags. */
  boost: number;
  /** Weight multiplier when it has none (below 1 for interests that need the context). */
  otherwise?: number;
}

export interface Interest {
  /** As written in `profile.interests`. */
  name: string;
  /** Catalog categories whose ads fit this interest. */
  categories: string[];
  /** Lower-case words that mark a text as being about this interest. */
  keywords: string[];
  /** Noun phrase: "tips for {topic}". */
  topic: string;
  /** Things one might buy for it: "what should I look for in {gear}". */
  gear: string[];
  /** Verb phrases: "I want to {goal}". */
  goals: string[];
  /** Whether it is a practice one can fit into "{time} a day". */
  active: boolean;
  /** Whether it is something one "gets into" (a pastime, not a life circumstance). */
  hobby: boolean;
  /** Whether its gear lasts (so "how often should I replace it" makes sense). */
  durable: boolean;
  /** Plausible budget caps, in dollars, for the gear. */
  prices: number[];
  /** Questions only this interest asks; they may use the common slots. */
  questions: string[];
  affinity?: Affinity;
}

export const INTERESTS: readonly Interest[] = [
  {
    name: 'running',
    categories: ['Running Shoes', 'Yoga & Fitness', 'Protein & Sports Nutrition'],
    keywords: ['run', 'running', 'runner', 'runs', '5k', '10k', 'marathon', 'jog'],
    topic: 'running',
    gear: ['running shoes', 'cushioned running shoes for long runs', 'lightweight running shorts'],
    goals: ['train for my first 10K', 'run a half marathon next spring', 'get back into running after a knee injury', 'run three mornings a week'],
    active: true,
    hobby: true,
    durable: true,
    prices: [80, 120, 150],
    questions: [
      'How do I know when my running shoes are worn out?',
      'Should I buy neutral or stability running shoes if my feet roll inward?',
      'What should I eat before a long run on a weekend morning?',
      'How can I avoid shin splints when I add more running mileage?',
      'Is it okay to run every day, or do I need rest days?',
    ],
  },
  {
    name: 'yoga',
    categories: ['Yoga & Fitness', 'Smoothies & Superfoods'],
    keywords: ['yoga', 'stretch', 'stretching', 'flexibility', 'pilates', 'poses'],
    topic: 'yoga',
    gear: ['comfortable yoga pants', 'a breathable top for hot yoga', 'yoga clothes that stay put in inversions'],
    goals: ['build a daily yoga habit', 'improve my flexibility with yoga', 'wind down with yoga after work'],
    active: true,
    hobby: true,
    durable: true,
    prices: [40, 60, 100],
    questions: [
      'Which yoga poses help with lower back pain from sitting all day?',
      'Is hot yoga a good idea for a complete beginner?',
      "What's the difference between vinyasa and hatha yoga?",
      'Can you put together a 15-minute morning yoga flow for stiff shoulders?',
    ],
  },
  {
    name: 'strength training',
    categories: ['Gym & Training', 'Protein & Sports Nutrition'],
    keywords: ['gym', 'workout', 'workouts', 'lifting', 'lift', 'strength', 'weights', 'training', 'protein', 'muscle', 'squats', 'squat'],
    topic: 'strength training',
    gear: ['cross-training shoes for the gym', 'flat shoes for lifting weights', 'a good pair of gym shoes'],
    goals: ['build muscle without a personal trainer', 'squat with better form', 'stick to a gym routine this year'],
    active: true,
    hobby: true,
    durable: true,
    prices: [50, 100, 140],
    questions: [
      'How much protein do I really need if I lift weights four times a week?',
      'Are running shoes okay for squats and deadlifts, or do I need training shoes?',
      "What's a simple full-body workout I can do three days a week?",
      'Is whey or plant protein better after a workout?',
    ],
  },
  {
    name: 'hiking',
    categories: ['Hiking & Outdoor', 'Travel Essentials', 'Allergy Relief'],
    keywords: ['hike', 'hikes', 'hiking', 'hiker', 'trail', 'trails', 'outdoor', 'outdoors', 'camping', 'national park'],
    topic: 'hiking',
    gear: ['trail shoes', 'a waterproof jacket for hiking', 'a sun hat for long hikes'],
    goals: ['do a full-day mountain hike this summer', 'hike every weekend without wrecking my knees', 'hike a section of a long-distance trail'],
    active: true,
    hobby: true,
    durable: true,
    prices: [80, 150, 200],
    questions: [
      'What should I pack for a day hike in hot weather?',
      'Do I need hiking boots, or are trail runners enough for rocky trails?',
      'How do I prepare for hiking at high altitude?',
      'Which beginner-friendly hikes are worth doing in the national parks?',
      'How do I deal with hay fever on spring hikes?',
    ],
  },
  {
    name: 'golf',
    categories: ['Golf', 'Watches & Accessories'],
    keywords: ['golf', 'golfer', 'golfing', 'swing', 'putting', 'tee time', 'course', 'slice'],
    topic: 'golf',
    gear: ['a golf cap that handles sweat', 'golf shoes for walking 18 holes', 'a breathable golf hat'],
    goals: ['break 100 at golf this season', 'fix my slice', 'get more consistent with my short game in golf'],
    active: true,
    hobby: true,
    durable: true,
    prices: [30, 100, 150],
    questions: [
      'What golf etiquette should I know before my first round?',
      'How can I practice golf at home without a simulator?',
      'What should I wear to a golf course with a dress code?',
      'Is it worth taking golf lessons as an adult beginner?',
    ],
    affinity: { tags: ['retired', 'suburb'], boost: 2 },
  },
  {
    name: 'basketball',
    categories: ['Team Sports', 'Gym & Training'],
    keywords: ['basketball', 'hoops', 'court', 'league', 'jump shot', 'pickup game'],
    topic: 'basketball',
    gear: ['basketball shoes with good ankle support', 'indoor court shoes', 'basketball shoes for outdoor courts'],
    goals: ['improve my jump shot', 'join a weekend basketball league', 'get my vertical jump up for basketball'],
    active: true,
    hobby: true,
    durable: true,
    prices: [90, 130, 180],
    questions: [
      'What basketball drills can I do alone at a public court?',
      'How do I stop rolling my ankle when I play basketball?',
      'Are high-top basketball shoes actually better for ankle support?',
    ],
    affinity: { tags: ['student', 'young'], boost: 2 },
  },
  {
    name: 'following baseball',
    categories: ['Team Sports', 'TV & Home Theater'],
    keywords: ['baseball', 'ballpark', 'jersey', 'playoffs', 'world series', 'season tickets'],
    topic: 'following baseball',
    gear: ['an official team jersey', 'a big TV for watching baseball games', 'a jersey for my kid to wear to a baseball game'],
    goals: ['see a game at every ballpark in my region', 'host a baseball playoff watch party', 'learn to keep score at a baseball game'],
    active: false,
    hobby: true,
    durable: true,
    prices: [100, 300, 800],
    questions: [
      'Can you explain how the baseball wild-card playoff format works?',
      'Which ballparks are worth a road trip for a baseball fan?',
      'What stats should I look at to understand a pitcher in baseball?',
    ],
  },
  {
    name: 'walking',
    categories: ['Walking Shoes', 'Comfort & Work Shoes'],
    keywords: ['walk', 'walks', 'walking', 'steps', 'walker'],
    topic: 'walking',
    gear: ['supportive walking shoes', 'comfortable shoes for long walks', 'walking shoes for wide feet'],
    goals: ['reach 10,000 steps a day', 'walk to work more often', 'lose a few pounds just by walking'],
    active: true,
    hobby: true,
    durable: true,
    prices: [60, 90, 130],
    questions: [
      'Is walking every day enough exercise to stay healthy?',
      'How should walking shoes fit if I have flat feet?',
      'What are some ways to make a daily walk less boring?',
    ],
    affinity: { tags: ['retired', 'caregiver', 'older'], boost: 2 },
  },
  {
    name: 'home cooking',
    categories: ['Kitchen', 'Soups & Broths', 'Dining Room', 'Smoothies & Superfoods'],
    keywords: ['cook', 'cooking', 'recipe', 'recipes', 'kitchen', 'dinner', 'dinners', 'meal', 'meals', 'soup', 'soups', 'broth', 'homemade'],
    topic: 'home cooking',
    gear: ['a kitchen island with extra storage', 'a rolling kitchen cart', 'a sturdy dining table for family dinners'],
    goals: ['cook more dinners at home instead of ordering takeout', 'learn a few reliable weeknight recipes', 'make soups from scratch'],
    active: false,
    hobby: true,
    durable: true,
    prices: [20, 200, 400],
    questions: [
      "What's an easy weeknight soup I can make with store-bought broth?",
      'How do I organize a small kitchen so cooking feels less chaotic?',
      'What are five pantry staples that make quick dinners easier?',
      'Can you give me a simple recipe for a one-pan chicken dinner?',
      'How do I make homemade bone broth, and is it worth the effort?',
    ],
  },
  {
    name: 'meal prep',
    categories: ['Soups & Broths', 'Protein & Sports Nutrition', 'Breakfast & Cereal', 'Kitchen'],
    keywords: ['meal prep', 'meal-prep', 'meals', 'lunch', 'lunches', 'batch', 'prep', 'meal prepping', 'meal-prepped', 'takeout'],
    topic: 'meal prep',
    gear: ['ingredients for a week of meal prep', 'a high-protein breakfast I can prep ahead', 'soups that freeze well for meal prep'],
    goals: ['meal prep lunches for the whole work week', 'spend less on takeout by meal prepping', 'prep healthy breakfasts on Sundays'],
    active: false,
    hobby: true,
    durable: false,
    prices: [30, 60, 100],
    questions: [
      'What are some meal prep lunches that still taste good on day four?',
      'How long do meal-prepped soups keep in the fridge?',
      'Can you plan a cheap vegetarian meal prep for five workdays?',
    ],
    affinity: { tags: ['busy', 'student'], boost: 2 },
  },
  {
    name: 'healthy eating',
    categories: ['Breakfast & Cereal', 'Healthy Snacks', 'Smoothies & Superfoods', 'Vitamins & Supplements'],
    keywords: ['healthy', 'nutrition', 'diet', 'eating', 'breakfast', 'snack', 'snacks', 'fiber', 'sugar', 'junk food'],
    topic: 'healthy eating',
    gear: ['a high-fiber breakfast cereal', 'healthy snacks for the office', 'a granola that is not loaded with sugar'],
    goals: ['cut back on sugar', 'eat a healthier breakfast every day', 'stop snacking on junk food at work'],
    active: false,
    hobby: false,
    durable: false,
    prices: [10, 25, 50],
    questions: [
      'What are some healthy snacks that keep me full between meals?',
      'Is granola actually a healthy breakfast?',
      'How can I eat more fiber without feeling bloated?',
      'What does a balanced breakfast look like for someone always in a rush?',
    ],
  },
  {
    name: 'smoothies',
    categories: ['Smoothies & Superfoods', 'Protein & Sports Nutrition'],
    keywords: ['smoothie', 'smoothies', 'blender', 'superfood', 'superfoods', 'shake', 'shakes'],
    topic: 'making smoothies',
    gear: ['superfood add-ins for smoothies', 'a protein powder for smoothies', 'flax seeds for my morning smoothie'],
    goals: ['replace my sugary breakfast with a smoothie', 'make green smoothies my kids will drink', 'pack more protein into my smoothies'],
    active: false,
    hobby: true,
    durable: false,
    prices: [15, 30, 60],
    questions: [
      'Can you give me three smoothie recipes without banana?',
      'Are flax seeds better ground or whole in a smoothie?',
      'How do I make a smoothie filling enough to be a meal?',
    ],
  },
  {
    name: 'photography',
    categories: ['Cameras & Photography', 'Laptops & Computers'],
    keywords: ['photo', 'photos', 'photography', 'photographer', 'camera', 'cameras', 'lens', 'pictures', 'shoot', 'tripod'],
    topic: 'photography',
    gear: ['a beginner camera', 'a compact camera for travel photos', 'a clip-on lens kit for my phone', 'a sturdy tripod'],
    goals: ['take sharper photos in low light', 'get better at portrait photography', 'start a small photography side business'],
    active: true,
    hobby: true,
    durable: true,
    prices: [100, 500, 900],
    questions: [
      'Should I buy a mirrorless camera or keep using my phone for photos?',
      'What camera settings should I use for photos of kids who never sit still?',
      'How do I take good photos of the night sky?',
      'Are clip-on phone lenses worth it for travel photography?',
    ],
  },
  {
    name: 'mobile gadgets',
    categories: ['Smartphones', 'Computer Accessories', 'Cameras & Photography'],
    keywords: ['phone', 'phones', 'smartphone', 'iphone', 'android', 'mobile', 'gadget', 'gadgets'],
    topic: 'phones and mobile gadgets',
    gear: ['a new smartphone', 'an unlocked phone with a good camera', 'a wireless charger for my phone'],
    goals: ['switch from iPhone to Android', 'make my phone battery last a full day', 'find a phone for my parents that is easy to use'],
    active: false,
    hobby: true,
    durable: true,
    prices: [200, 400, 800],
    questions: [
      'Is it better to buy an unlocked phone or get one through my carrier?',
      'How much phone storage do I really need?',
      'What should I do before selling my old smartphone?',
      'Which phone settings drain the battery the most?',
    ],
  },
  {
    name: 'computers and tech',
    categories: ['Laptops & Computers', 'Computer Accessories', 'Tablets'],
    keywords: ['laptop', 'laptops', 'computer', 'computers', 'pc', 'tech', 'keyboard', 'tablet', 'wi-fi', 'chromebook', 'software'],
    topic: 'computers and tech',
    gear: ['a new laptop', 'a wireless keyboard', 'a tablet for reading and video calls', 'a Chromebook for simple tasks'],
    goals: ['speed up my old laptop', 'set up a reliable home Wi-Fi network', 'learn to build my own PC'],
    active: false,
    hobby: true,
    durable: true,
    prices: [300, 600, 1000],
    questions: [
      'Is 8GB of RAM enough for a laptop these days?',
      'Chromebook or Windows laptop for a student who mostly writes papers?',
      'How do I fix Wi-Fi that keeps dropping in one room of my home?',
      'Is a tablet with a keyboard a good replacement for a laptop?',
    ],
  },
  {
    name: 'movies and TV',
    categories: ['TV & Home Theater', 'Living Room Furniture'],
    keywords: ['movie', 'movies', 'tv', 'show', 'shows', 'series', 'film', 'films', 'streaming', 'home theater', 'blu-ray'],
    topic: 'watching movies at home',
    gear: ['a 4K TV', 'a Blu-ray player', 'a comfortable sofa for movie nights'],
    goals: ['build a simple home theater', 'host a monthly movie night', 'watch more classic films'],
    active: false,
    hobby: true,
    durable: true,
    prices: [150, 500, 1200],
    questions: [
      'What screen size TV do I need for a couch about 9 feet away?',
      'Can you recommend a few underrated thriller movies from the last decade?',
      'Is a soundbar worth it, or are TV speakers good enough?',
      'What are some good TV series to binge on a long weekend?',
    ],
  },
  {
    name: 'smart home',
    categories: ['Smart Home & Security', 'TV & Home Theater', 'Computer Accessories'],
    keywords: ['smart home', 'security camera', 'camera', 'wi-fi', 'gadgets', 'automation', 'alexa', 'tv', 'secure', 'thermostat', 'lights', 'security', 'cameras'],
    topic: 'smart home gadgets',
    gear: ['a Wi-Fi security camera', 'an indoor camera to check on my pets', 'a wireless display adapter for my TV'],
    goals: ['make my home more secure while I travel', 'automate my lights and thermostat', 'set up a camera to watch the front door'],
    active: false,
    hobby: true,
    durable: true,
    prices: [40, 100, 250],
    questions: [
      'Are cheap Wi-Fi security cameras safe from hackers?',
      'Where should I place indoor security cameras for the best coverage?',
      'Can you explain how smart home hubs work in plain language?',
    ],
  },
  {
    name: 'working from home',
    categories: ['Home Office', 'Computer Accessories', 'Laptops & Computers'],
    keywords: ['work from home', 'working from home', 'home office', 'remote', 'desk', 'office', 'video calls', 'keyboard', 'remotely', 'productive'],
    topic: 'working from home',
    gear: ['a desk for a small home office', 'an ergonomic keyboard', 'a laptop for remote work'],
    goals: ['set up a home office in a small space', 'stay focused while working from home', 'separate work and home life when my office is my living room'],
    active: false,
    hobby: false,
    durable: true,
    prices: [150, 300, 700],
    questions: [
      'How should I set up my desk to avoid neck pain when working from home?',
      'What are good routines to stay productive when working remotely?',
      'How can I make video calls look more professional from a home office?',
    ],
    affinity: { tags: ['remote'], boost: 4 },
  },
  {
    name: 'interior design',
    categories: ['Living Room Furniture', 'Home Decor', 'Bedroom Furniture', 'Dining Room'],
    keywords: ['decor', 'decorate', 'decorating', 'interior', 'living room', 'furniture', 'design', 'room', 'bedroom', 'bed', 'blinds', 'dining set', 'color scheme', 'colors', 'sofa', 'farmhouse', 'mid-century'],
    topic: 'interior design',
    gear: ['a sofa for a small living room', 'a platform bed', 'window blinds that look expensive', 'a dining set for four'],
    goals: ['redecorate my living room', 'make my bedroom feel calmer', 'pick a color scheme for my new place'],
    active: false,
    hobby: true,
    durable: true,
    prices: [200, 600, 1500],
    questions: [
      'How do I make a small living room look bigger with furniture placement?',
      'What colors go well with a gray sofa?',
      'How do I mix wood tones in one room without it looking messy?',
      'Farmhouse or mid-century modern: which style ages better?',
    ],
    affinity: { tags: ['homeowner', 'newcity'], boost: 2 },
  },
  {
    name: 'DIY home projects',
    categories: ['Home Improvement', 'Storage & Organization', 'Home Decor'],
    keywords: ['diy', 'renovation', 'renovate', 'flooring', 'floor', 'remodel', 'project', 'projects', 'home improvement', 'install', 'door', 'doors', 'bathroom', 'drywall', 'shelf'],
    topic: 'DIY home projects',
    gear: ['vinyl plank flooring', 'a new interior door', 'laminate flooring for a basement'],
    goals: ['install new flooring myself', 'redo my bathroom on a budget', 'replace old interior doors'],
    active: false,
    hobby: true,
    durable: true,
    prices: [300, 800, 2000],
    questions: [
      'Can I put vinyl plank flooring over old tile?',
      'What tools does a beginner need for basic DIY home repairs?',
      'How do I hang a heavy shelf on drywall safely?',
      'Which home improvement projects add the most value before selling?',
    ],
    affinity: { tags: ['homeowner'], boost: 3, otherwise: 0.5 },
  },
  {
    name: 'organizing',
    categories: ['Storage & Organization', 'Kitchen', 'Books & Reading'],
    keywords: ['organize', 'organizing', 'organized', 'organization', 'clutter', 'declutter', 'decluttering', 'storage', 'shelf', 'organizer', 'counters'],
    topic: 'organizing and decluttering',
    gear: ['storage shelves for a garage', 'a storage cabinet for a small apartment', 'a shelf organizer for the closet'],
    goals: ['declutter my whole home in a month', 'keep my kitchen counters clear', 'organize a tiny closet'],
    active: false,
    hobby: true,
    durable: true,
    prices: [50, 150, 300],
    questions: [
      'Where do I start decluttering when every room feels overwhelming?',
      'How do I organize a small closet shared by two people?',
      'What storage ideas work for a rental where I cannot drill into walls?',
    ],
  },
  {
    name: 'reading',
    categories: ['Books & Reading', 'Tablets'],
    keywords: ['read', 'reading', 'reader', 'book', 'books', 'novel', 'novels', 'bookshelf', 'bookcase'],
    topic: 'reading',
    gear: ['a bookcase for a growing book collection', 'a tablet for reading e-books', 'a cozy reading nook setup'],
    goals: ['read 30 books this year', 'get back into reading instead of scrolling', 'start a book club with friends'],
    active: true,
    hobby: true,
    durable: true,
    prices: [100, 200, 400],
    questions: [
      'Can you recommend a few novels for someone who loved "The Martian"?',
      'How can I read more when I only have short breaks in the day?',
      'What are some classic books that are actually fun to read?',
      'How do I start a book club that people keep coming to?',
    ],
  },
  {
    name: 'hosting dinner parties',
    categories: ['Dining Room', 'Kitchen', 'Soups & Broths'],
    keywords: ['dinner party', 'dinner parties', 'hosting', 'host', 'guests', 'dinner', 'entertaining', 'dining', 'kitchen island'],
    topic: 'hosting dinner parties',
    gear: ['an extendable dining table', 'dining chairs that are comfortable for long dinners', 'a kitchen island for serving'],
    goals: ['host a dinner party for eight without stress', 'plan a make-ahead menu for guests', 'host Thanksgiving for the first time'],
    active: false,
    hobby: true,
    durable: true,
    prices: [300, 800, 1500],
    questions: [
      'What is a good make-ahead menu for a dinner party of six?',
      'How do I seat guests at a dinner party when some do not know each other?',
      'How much food should I plan per guest for a buffet dinner?',
    ],
    affinity: { tags: ['homeowner', 'emptynest'], boost: 2 },
  },
  {
    name: 'gardening and yard work',
    categories: ['Lawn & Garden', 'Outdoor & Patio', 'Allergy Relief'],
    keywords: ['garden', 'gardening', 'lawn', 'yard', 'mow', 'mowing', 'mower', 'plants', 'leaves', 'leaf blower', 'vegetables', 'gardener'],
    topic: 'gardening and yard work',
    gear: ['a riding lawn mower', 'a leaf blower', 'a mower for a one-acre lawn'],
    goals: ['get a greener lawn this year', 'start a vegetable garden', 'keep up with yard work on weekends'],
    active: true,
    hobby: true,
    durable: true,
    prices: [200, 500, 2500],
    questions: [
      'When is the best time to overseed a patchy lawn?',
      'What vegetables are easiest for a first-time gardener?',
      'Is a riding mower worth it for half an acre?',
      'How do I keep pollen allergies under control while doing yard work?',
    ],
    affinity: { tags: ['yard', 'rural', 'homeowner', 'retired'], boost: 3, otherwise: 0.3 },
  },
  {
    name: 'outdoor living',
    categories: ['Outdoor & Patio', 'Backyard Playhouses', 'Lawn & Garden'],
    keywords: ['backyard', 'patio', 'outdoor', 'deck', 'porch', 'playhouse'],
    topic: 'backyard and patio living',
    gear: ['patio furniture', 'a wooden playhouse for the backyard', 'outdoor seating that survives the rain'],
    goals: ['turn my backyard into a place to relax', 'make the patio kid-friendly', 'host summer barbecues on the patio'],
    active: false,
    hobby: true,
    durable: true,
    prices: [300, 800, 2000],
    questions: [
      'How do I protect patio furniture from sun and rain?',
      'What are some cheap ways to make a backyard feel cozy?',
      'How big should a backyard playhouse be for two kids?',
    ],
    affinity: { tags: ['yard', 'rural', 'homeowner'], boost: 3, otherwise: 0.3 },
  },
  {
    name: 'cars and trucks',
    categories: ['Cars & Trucks'],
    keywords: ['car', 'cars', 'truck', 'trucks', 'tire', 'tires', 'driving', 'off-road', 'jeep', 'vehicle', 'dash cam', 'off-roading'],
    topic: 'cars and trucks',
    gear: ['all-season tires', 'a lift kit for my truck', 'a dash cam', 'winter tires'],
    goals: ['keep my old truck running another five years', 'get into off-roading safely', 'do basic car maintenance myself'],
    active: false,
    hobby: true,
    durable: true,
    prices: [100, 500, 1500],
    questions: [
      'How often should I rotate my tires?',
      'Does a lift kit hurt my truck fuel economy much?',
      'Is a dash cam worth it for everyday driving?',
      'What car maintenance can I safely do myself?',
    ],
    affinity: { tags: ['rural', 'snow'], boost: 2 },
  },
  {
    name: 'travel',
    categories: ['Travel Essentials', 'Swimwear & Beach', 'Allergy Relief'],
    keywords: ['travel', 'traveling', 'travelling', 'trip', 'trips', 'vacation', 'flight', 'flights', 'itinerary', 'packing', 'hotel', 'carry-on'],
    topic: 'travel',
    gear: ['compression socks for long flights', 'comfortable sandals for a walking vacation', 'wrinkle-free clothes for travel'],
    goals: ['travel more on a modest budget', 'pack for two weeks in a carry-on', 'take a trip abroad this year'],
    active: false,
    hobby: true,
    durable: true,
    prices: [30, 80, 150],
    questions: [
      'Can you plan a relaxed four-day trip to Lisbon?',
      'How do I avoid jet lag on a long flight to Asia?',
      'What should I pack for a week-long trip with only a carry-on?',
      'Are compression socks actually useful on long flights?',
      'What are some affordable vacation ideas in the US for early fall?',
    ],
  },
  {
    name: 'beach vacations',
    categories: ['Swimwear & Beach', 'Travel Essentials', 'Skin Care'],
    keywords: ['beach', 'beaches', 'swim', 'swimsuit', 'ocean', 'snorkeling', 'island', 'vacation', 'sun'],
    topic: 'beach vacations',
    gear: ['a flattering swimsuit', 'a wide-brim sun hat for the beach', 'a beach cover-up'],
    goals: ['plan a beach vacation on a budget', 'find a quiet beach destination', 'learn to snorkel on my next beach trip'],
    active: false,
    hobby: false,
    durable: true,
    prices: [40, 80, 150],
    questions: [
      'Which Caribbean islands are good for a quiet beach vacation?',
      'How do I avoid sunburn on a week at the beach?',
      'What should I pack for a beach trip with toddlers?',
    ],
    affinity: { tags: ['beach'], boost: 3 },
  },
  {
    name: 'skincare',
    categories: ['Skin Care', 'Vitamins & Supplements'],
    keywords: ['skin', 'skincare', 'serum', 'serums', 'moisturizer', 'wrinkles', 'sunscreen', 'face', 'acne', 'redness'],
    topic: 'skincare',
    gear: ['a vitamin C serum', 'a night serum for dry skin', 'an anti-redness serum'],
    goals: ['build a simple skincare routine', 'calm redness on my cheeks', 'take better care of my skin in my 40s'],
    active: false,
    hobby: true,
    durable: false,
    prices: [25, 50, 100],
    questions: [
      'In what order should I apply serum, moisturizer and sunscreen?',
      'Is vitamin C serum worth it, and when should I use it?',
      'What is a minimal skincare routine for oily skin?',
      'How do I know if a skincare product is irritating my skin?',
    ],
  },
  {
    name: 'hair care',
    categories: ['Hair Care', 'Vitamins & Supplements'],
    keywords: ['hair', 'frizz', 'frizzy', 'shampoo', 'conditioner', 'curls', 'scalp'],
    topic: 'hair care',
    gear: ['a shampoo for dry, frizzy hair', 'a deep-conditioning hair treatment', 'a hair serum for humidity'],
    goals: ['tame frizzy hair in humid weather', 'repair hair damaged by bleaching', 'grow my hair out healthily'],
    active: false,
    hobby: false,
    durable: false,
    prices: [20, 40, 80],
    questions: [
      'How often should I wash my hair if it gets oily quickly?',
      'Do biotin supplements really help hair grow?',
      'What is the best way to protect my hair from heat styling?',
    ],
  },
  {
    name: 'fashion',
    categories: ['Dresses & Formal Wear', 'Coats & Jackets', 'Watches & Accessories', 'Boots', 'Sandals'],
    keywords: ['outfit', 'outfits', 'style', 'fashion', 'wear', 'dress', 'wardrobe', 'jacket', 'boots', 'shoes', 'sandals', 'watch'],
    topic: 'fashion',
    gear: ['a versatile jacket for fall', 'ankle boots that go with everything', 'a classic watch', 'dressy sandals for summer'],
    goals: ['build a capsule wardrobe', 'find my personal style', 'dress better on a small budget'],
    active: false,
    hobby: true,
    durable: true,
    prices: [60, 150, 300],
    questions: [
      'What are ten wardrobe basics every adult should own?',
      'How do I style ankle boots with wide-leg pants?',
      'What outfit works for a smart-casual dress code?',
      'How do I care for leather boots so they last for years?',
    ],
  },
  {
    name: 'sneakers',
    categories: ['Running Shoes', 'Gym & Training', 'Team Sports', 'Walking Shoes'],
    keywords: ['sneaker', 'sneakers', 'shoes', 'kicks', 'air max', 'trainers'],
    topic: 'sneakers',
    gear: ['a pair of classic white sneakers', 'limited-edition sneakers', 'everyday sneakers that are comfortable all day'],
    goals: ['start a sneaker collection', 'keep my white sneakers clean', 'spot fake sneakers when buying resale'],
    active: false,
    hobby: true,
    durable: true,
    prices: [80, 150, 250],
    questions: [
      'How do I clean white sneakers without ruining them?',
      'How can I tell if sneakers on a resale site are fake?',
      'Which sneakers are comfortable enough to wear all day at work?',
    ],
    affinity: { tags: ['young', 'student'], boost: 2 },
  },
  {
    name: 'dogs',
    categories: ['Pet Care'],
    keywords: ['dog', 'dogs', 'puppy', 'pup', 'vet'],
    topic: 'dog care',
    gear: ['a grain-free dog food', 'allergy relief for my dog', 'healthy dog treats'],
    goals: ['train my dog to walk without pulling', 'help my dog lose a few pounds', 'keep my dog calm during storms'],
    active: false,
    hobby: false,
    durable: false,
    prices: [30, 60, 100],
    questions: [
      'How do I know if my dog has a food allergy?',
      'How much exercise does a medium-sized dog need each day?',
      'Is grain-free food actually better for dogs?',
      'How do I get my dog used to being home alone?',
    ],
    affinity: { tags: ['dog'], boost: 8, otherwise: 0.7 },
  },
  {
    name: 'cats',
    categories: ['Pet Care'],
    keywords: ['cat', 'cats', 'kitten', 'litter', 'hairball', 'vet'],
    topic: 'cat care',
    gear: ['hairball remedies for my cat', 'a good cat food for an older cat', 'cat supplies for a new kitten'],
    goals: ['help my indoor cat stay active', 'introduce a second cat to my home', 'stop my cat from scratching the sofa'],
    active: false,
    hobby: false,
    durable: false,
    prices: [20, 40, 80],
    questions: [
      'Why does my cat throw up hairballs so often?',
      'How do I introduce a new kitten to an older cat?',
      'What indoor games keep a bored cat entertained?',
    ],
  },
  {
    name: 'horseback riding',
    categories: ['Pet Care', 'Boots'],
    keywords: ['horse', 'horses', 'riding', 'barn', 'equestrian', 'saddle', 'ride'],
    topic: 'horseback riding',
    gear: ['riding boots', 'western boots for the barn', 'tall boots for riding lessons'],
    goals: ['take horseback riding lessons', 'buy my first horse', 'ride on trails with more confidence'],
    active: true,
    hobby: true,
    durable: true,
    prices: [100, 200, 400],
    questions: [
      'What does it really cost to keep a horse each month?',
      'What should I wear to my first horseback riding lesson?',
      'How do I know if my horse needs a vitamin supplement?',
    ],
    affinity: { tags: ['rural'], boost: 5, otherwise: 0.3 },
  },
  {
    name: 'raising little kids',
    categories: ['Baby & Toddler', "Kids' Fashion", 'Backyard Playhouses', 'Back to School'],
    keywords: ['baby', 'toddler', 'toddlers', 'kid', 'kids', 'child', 'children', 'son', 'daughter', 'family', 'preschool', 'preschooler'],
    topic: 'raising little kids',
    gear: ['healthy snacks for a toddler', 'shoes for a toddler who just started walking', 'organic baby food', 'a learning tablet for a preschooler'],
    goals: ['get my toddler to eat more vegetables', 'cut down on screen time for my kids', 'set up a calmer bedtime routine for the kids'],
    active: false,
    hobby: false,
    durable: false,
    prices: [20, 50, 150],
    questions: [
      'How do I get my toddler to try new foods?',
      'What are some screen-free activities for a rainy day with kids?',
      'When should I move my baby to solid foods, and what should come first?',
      'How do I handle toddler tantrums in public?',
    ],
    affinity: { tags: ['parent', 'baby', 'grandparent'], boost: 6, otherwise: 0.05 },
  },
  {
    name: 'vitamins and wellness',
    categories: ['Vitamins & Supplements', 'Allergy Relief', 'Smoothies & Superfoods'],
    keywords: ['vitamin', 'vitamins', 'immune', 'wellness', 'supplement', 'supplements', 'energy', 'health', 'healthy', 'multivitamin', 'sleep', 'tired'],
    topic: 'vitamins and wellness',
    gear: ['a good daily multivitamin', 'vitamin C for the winter', 'a multivitamin for people over 50'],
    goals: ['boost my energy in the afternoons', 'stay healthy through flu season', 'sleep better without medication'],
    active: false,
    hobby: false,
    durable: false,
    prices: [15, 30, 60],
    questions: [
      'Do I actually need a multivitamin if I eat fairly well?',
      'How much vitamin D should an adult take in winter?',
      'What are natural ways to feel less tired in the afternoon?',
      'Is it safe to take vitamin C every day?',
    ],
    affinity: { tags: ['older', 'retired'], boost: 2 },
  },
  {
    name: 'career and workwear',
    categories: ['Workwear & Suits', 'Comfort & Work Shoes', 'Watches & Accessories', 'Dresses & Formal Wear'],
    keywords: ['work', 'office', 'interview', 'career', 'professional', 'suit', 'blazer', 'meeting', 'job', 'shifts'],
    topic: 'professional style',
    gear: ['a suit for job interviews', 'a blazer that works with jeans', 'comfortable shoes for long shifts', 'a watch for the office'],
    goals: ['look more professional at work', 'dress well for a job interview next week', 'find work shoes that do not hurt after ten hours'],
    active: false,
    hobby: false,
    durable: true,
    prices: [80, 200, 400],
    questions: [
      'What should I wear to a job interview at a casual tech company?',
      'How do I build a work wardrobe with only ten pieces?',
      'What shoes are best for standing all day at work?',
    ],
    affinity: { tags: ['working'], boost: 2, otherwise: 0.3 },
  },
  {
    name: 'winter preparedness',
    categories: ['Coats & Jackets', 'Boots', 'Cars & Trucks'],
    keywords: ['winter', 'snow', 'snowy', 'cold', 'coat', 'boots', 'icy', 'ice', 'plow'],
    topic: 'getting ready for winter',
    gear: ['a warm winter coat', 'snow boots with good grip', 'a snow plow for my truck', 'winter tires'],
    goals: ['get through winter without being miserable', 'keep my driveway clear of snow', 'drive safely on icy roads'],
    active: false,
    hobby: false,
    durable: true,
    prices: [100, 200, 600],
    questions: [
      'How do I layer clothes properly for really cold days?',
      'What should I keep in my car for winter emergencies?',
      'Are winter tires worth it if I only drive in town?',
    ],
    affinity: { tags: ['snow'], boost: 5, otherwise: 0.4 },
  },
  {
    name: 'studying',
    categories: ['Back to School', 'Laptops & Computers', 'Books & Reading', 'Tablets'],
    keywords: ['school', 'study', 'studying', 'student', 'class', 'classes', 'homework', 'college', 'exam', 'exams', 'dorm', 'grades', 'notes', 'lectures'],
    topic: 'studying',
    gear: ['a laptop for college', 'a tablet for taking notes in class', 'a bookcase for my dorm', 'uniform pants for school'],
    goals: ['study more effectively for exams', 'stop procrastinating on homework', 'keep my grades up while working part-time'],
    active: true,
    hobby: false,
    durable: true,
    prices: [200, 500, 900],
    questions: [
      'What study techniques actually help with remembering material for exams?',
      'How do I take good notes during fast lectures?',
      'Can you make me a study schedule for three exams in two weeks?',
    ],
    affinity: { tags: ['student', 'parent'], boost: 5, otherwise: 0.1 },
  },
  {
    name: 'weddings and formal events',
    categories: ['Dresses & Formal Wear', 'Workwear & Suits', 'Watches & Accessories'],
    keywords: ['wedding', 'weddings', 'gala', 'formal', 'event', 'party', 'dress', 'gown', 'cocktail'],
    topic: 'weddings and formal events',
    gear: ['a dress for a summer wedding', 'an evening gown for a gala', 'a cocktail dress that I can wear again'],
    goals: ['find a wedding guest outfit that is not too formal', 'plan my own small wedding', 'look put together at a black-tie event'],
    active: false,
    hobby: false,
    durable: false,
    prices: [100, 250, 500],
    questions: [
      'What does "cocktail attire" mean on a wedding invitation?',
      'How much should I spend on a wedding gift for a coworker?',
      'Can you help me write a short toast for my best friend\'s wedding?',
    ],
  },
  {
    name: 'country living',
    categories: ['Lawn & Garden', 'Cars & Trucks', 'Boots', 'Pet Care'],
    keywords: ['farm', 'acreage', 'acres', 'rural', 'country', 'ranch', 'property', 'land', 'barn', 'gravel', 'chickens', 'driveway'],
    topic: 'life in the country',
    gear: ['a zero-turn mower for my acreage', 'work boots for the farm', 'all-terrain tires for gravel roads'],
    goals: ['keep up with chores on my acreage', 'make my rural property more self-sufficient', 'raise a few backyard chickens'],
    active: false,
    hobby: false,
    durable: true,
    prices: [200, 1000, 4000],
    questions: [
      'What do I need to know before keeping backyard chickens?',
      'How do I maintain a long gravel driveway?',
      'What should I keep on hand for power outages in the country?',
    ],
    affinity: { tags: ['rural'], boost: 8, otherwise: 0.05 },
  },
];

export interface Situation {
  /** Clause for the profile info. */
  info: string;
  /** First-person sentence a query may open with. */
  self: string;
  /** Short phrase for queries: "any advice for someone {short}". */
  short: string;
  ages: [number, number];
  tags: string[];
  weight: number;
  home?: string;
  /** Occupation pool to draw from instead of the general one. */
  occupations?: 'student' | 'retired';
  questions: string[];
}

export const SITUATIONS: readonly Situation[] = [
  {
    info: 'single and living alone',
    self: 'I live alone.',
    short: 'living alone',
    ages: [22, 60],
    tags: ['working'],
    weight: 3,
    questions: ['How can I cook for one without wasting so much food?', 'What are good ways to meet new people after 30?'],
  },
  {
    info: 'a college student sharing an apartment with roommates',
    self: 'I share an apartment with two roommates.',
    short: 'on a student budget',
    ages: [18, 24],
    tags: ['student', 'young'],
    weight: 2,
    home: 'a shared apartment near campus',
    occupations: 'student',
    questions: ['How can I furnish my first apartment on a student budget?', 'How do I split bills fairly with roommates?'],
  },
  {
    info: 'recently moved to a new city for work',
    self: 'I just moved to a new city for work.',
    short: 'who just moved to a new city',
    ages: [22, 40],
    tags: ['newcity', 'working', 'young'],
    weight: 2,
    questions: ['I just moved to a new city. How do I make friends as an adult?', 'What should I buy first for an empty apartment?'],
  },
  {
    info: 'married with two young kids',
    self: 'I have two young kids.',
    short: 'with two young kids',
    ages: [28, 45],
    tags: ['parent', 'working', 'busy', 'homeowner'],
    weight: 4,
    questions: ['How do I balance a full-time job with family time on weekends?', 'What are easy weeknight dinners the whole family will eat?'],
  },
  {
    info: 'a new parent with a baby at home',
    self: 'We just had a baby.',
    short: 'with a new baby',
    ages: [25, 42],
    tags: ['parent', 'baby', 'busy', 'working'],
    weight: 2,
    questions: ['What baby essentials are actually worth buying, and what can I skip?', 'How do new parents get enough sleep?'],
  },
  {
    info: 'a single parent of a school-age child',
    self: 'I am a single parent.',
    short: 'raising a kid alone',
    ages: [28, 50],
    tags: ['parent', 'busy', 'working'],
    weight: 2,
    questions: ['How can a single parent find time for exercise?', 'What are affordable after-school activities for a 9-year-old?'],
  },
  {
    info: 'newly married and just bought a first house',
    self: 'We just bought our first house.',
    short: 'who just bought a first home',
    ages: [25, 40],
    tags: ['homeowner', 'working', 'yard'],
    weight: 2,
    questions: ['What seasonal maintenance should a new homeowner do?', 'How much should we keep in an emergency fund for home repairs?'],
  },
  {
    info: 'an empty nester whose kids have moved out',
    self: 'Our kids have all moved out.',
    short: 'whose kids just moved out',
    ages: [48, 66],
    tags: ['homeowner', 'emptynest', 'working', 'older'],
    weight: 2,
    questions: ['What should we do with our kids\' old bedrooms now that they have moved out?', 'How do empty nesters keep busy after the kids leave?'],
  },
  {
    info: 'retired and often looks after the grandchildren',
    self: 'I am retired and often watch my grandkids.',
    short: 'who is retired',
    ages: [63, 80],
    tags: ['retired', 'grandparent', 'older', 'homeowner'],
    weight: 2,
    occupations: 'retired',
    questions: ['What are fun rainy-day activities to do with grandchildren?', 'What are fulfilling ways to spend time in retirement?'],
  },
  {
    info: 'living with a partner and a dog',
    self: 'I live with my partner and our dog.',
    short: 'with a dog at home',
    ages: [24, 50],
    tags: ['dog', 'working'],
    weight: 2,
    questions: ['How do I keep my dog entertained while we are both at work?', 'What are good dog-friendly weekend trips?'],
  },
  {
    info: 'sharing a home with an elderly parent',
    self: 'My elderly mother lives with us.',
    short: 'caring for an elderly parent',
    ages: [35, 62],
    tags: ['caregiver', 'working', 'older'],
    weight: 1,
    questions: ['How can I make my home safer for an elderly parent?', 'How do caregivers avoid burning out?'],
  },
  {
    info: 'living with a partner in a small rental apartment',
    self: 'We rent a small apartment.',
    short: 'living in a small rental',
    ages: [22, 40],
    tags: ['renter', 'working', 'young'],
    weight: 2,
    home: 'a small rental apartment',
    questions: ['How can I make a small rental feel bigger without losing my deposit?', 'Is it smarter to rent or buy in today\'s market?'],
  },
];

export interface Place {
  info: string;
  /** First-person sentence a query may open with. */
  self: string;
  home: string;
  tags: string[];
  weight: number;
  question: string;
}

export const PLACES: readonly Place[] = [
  { info: 'a big city', self: 'I live in a big city.', home: 'a small city apartment', tags: ['city'], weight: 4, question: 'What are some ways to save money living in a big city?' },
  { info: 'the suburbs', self: 'I live in the suburbs.', home: 'a house in the suburbs', tags: ['suburb', 'yard'], weight: 4, question: 'What are fun things to do in the suburbs on a weekend?' },
  { info: 'a small town', self: 'I live in a small town.', home: 'a house in a small town', tags: ['yard'], weight: 2, question: 'How can I find good jobs without moving away from a small town?' },
  { info: 'a rural area', self: 'I live out in the country.', home: 'a farmhouse on a few acres', tags: ['rural', 'yard'], weight: 2, question: 'How can I get better internet in a rural area?' },
  { info: 'a coastal town', self: 'I live near the coast.', home: 'a house near the beach', tags: ['beach'], weight: 1, question: 'How do I protect my home from humidity near the coast?' },
  { info: 'a snowy mountain town', self: 'I live where winters are long and snowy.', home: 'a house in the mountains', tags: ['snow'], weight: 1, question: 'How do I keep my home warm without huge heating bills in a cold climate?' },
];

export interface Occupation {
  /** With article: "I'm {occupation}". */
  role: string;
  /** For the profile info: "who {info}". */
  info: string;
  /** "How can I … {whileBusy}?" */
  whileBusy: string;
  /** Has a job (questions about raises and bosses apply). */
  working: boolean;
  ages: [number, number];
  tags?: string[];
}

function job(title: string, ages: [number, number] = [22, 64], tags: string[] = []): Occupation {
  const article = /^[aeiou]/i.test(title) ? 'an' : 'a';
  const role = `${article} ${title}`;
  return { role, info: `works as ${role}`, whileBusy: `while working as ${role}`, working: true, ages, tags };
}

export const OCCUPATIONS: readonly Occupation[] = [
  job('nurse'),
  job('software developer', [22, 60], ['remote']),
  job('accountant'),
  job('high school teacher'),
  job('graphic designer', [22, 55], ['remote']),
  job('electrician'),
  job('sales manager', [26, 64]),
  job('barista', [18, 35]),
  job('truck driver'),
  job('marketing specialist', [22, 55], ['remote']),
  job('civil engineer'),
  job('pharmacist', [25, 64]),
  job('small business owner', [25, 70]),
  job('physical therapist', [24, 64]),
  job('restaurant cook', [18, 60]),
  job('police officer', [22, 58]),
  job('real estate agent', [22, 70]),
  job('data analyst', [22, 55], ['remote']),
  job('dental hygienist'),
  job('flight attendant', [21, 60]),
  job('lawyer', [25, 68]),
  job('construction worker', [18, 60]),
  job('customer service representative', [18, 60], ['remote']),
  job('librarian'),
  job('veterinary technician', [20, 60]),
  job('fitness instructor', [20, 50]),
  job('warehouse supervisor', [22, 62]),
  job('freelance writer', [22, 70], ['remote']),
  job('hair stylist', [20, 64]),
  job('office manager', [24, 64]),
];

function notWorking(role: string, info: string, whileBusy: string, ages: [number, number]): Occupation {
  return { role, info, whileBusy, working: false, ages };
}

export const STUDENT_JOBS: readonly Occupation[] = [
  notWorking('a college student', 'is a college student', 'while in college full-time', [18, 24]),
  notWorking('a nursing student', 'is a nursing student', 'while in nursing school', [18, 24]),
  notWorking('an engineering student', 'studies engineering', 'with a heavy engineering course load', [18, 24]),
  { ...notWorking('a student with a part-time job', 'studies and works part-time', 'while juggling classes and a part-time job', [18, 24]), working: true },
];

export const RETIRED_JOBS: readonly Occupation[] = [
  notWorking('a retired teacher', 'is a retired teacher', 'now that I am retired', [60, 85]),
  notWorking('a retired engineer', 'is a retired engineer', 'now that I am retired', [60, 85]),
  notWorking('a retired nurse', 'is a retired nurse', 'now that I am retired', [60, 85]),
  notWorking('a retired mail carrier', 'is a retired mail carrier', 'now that I am retired', [60, 85]),
  notWorking('a retiree', 'is retired after a career in sales', 'now that I am retired', [60, 85]),
];

/**
 * Interest templates. Flags keep each slot grammatical: `active` needs a practice that fits into
 * "{time} a day", `hobby` needs something one "gets into", `durable` needs gear that lasts (not food
 * or vitamins). Goals are first-person phrases, so templates around `{goal}` speak as "I".
 */
interface InterestTemplate {
  text: string;
  active?: boolean;
  hobby?: boolean;
  durable?: boolean;
}

export const INTEREST_TEMPLATES: readonly InterestTemplate[] = [
  { text: "What's a good beginner routine for {topic} if I only have {time} a day?", active: true },
  { text: "I'm {occupation} — any tips for {topic} on a tight budget?" },
  { text: 'What should I look for when buying {gear}?' },
  { text: 'Can you recommend {gear} {budget}?' },
  { text: 'How can I {goal} {whileBusy}?' },
  { text: 'I want to {goal}. Where should I start?' },
  { text: 'What are the most common mistakes people make when they get into {topic}?', hobby: true },
  { text: "I'm in my {age} and getting into {topic}. What do you wish beginners knew?", hobby: true },
  { text: 'Is it worth spending more on {gear}, or is a budget option fine?' },
  { text: 'How do I keep up with {topic} when life gets busy?' },
  { text: 'Give me a simple four-week plan to {goal}.' },
  { text: 'What are some good gift ideas for a friend who loves {topic}?', hobby: true },
  { text: 'I live in {home}. How can I make room for {topic}?', active: true },
  { text: "What's a realistic goal for {topic} over the next three months?", hobby: true },
  { text: 'Can you compare a few options for {gear} and explain the trade-offs?' },
  { text: 'How do I take care of {gear} so it lasts longer?', durable: true },
  { text: 'What do I need to get started with {topic} {season}?', hobby: true },
  { text: 'Any advice on {topic} for someone {situation}?' },
  { text: 'My goal is to {goal} before {deadline}. Is that realistic, and how should I approach it?' },
  { text: 'Can you suggest a weekend plan built around {topic}?', hobby: true },
  { text: 'I keep losing motivation with {topic}. How do I stay on track?', active: true },
  { text: "What's one small change I can make this week to {goal}?" },
  { text: 'Are there any apps or tools that help with {topic}?' },
  { text: "I'm shopping for {gear} {budget}. Which features actually matter?", durable: true },
  { text: 'How often should I replace {gear}?', durable: true },
  { text: 'I have {time} on weekday evenings. How can I fit {topic} into my schedule?', active: true },
  { text: 'What questions should I ask in the store when choosing {gear}?' },
  { text: 'Is {topic} a good hobby for {occupation} like me?', hobby: true },
  { text: 'How can I {goal} without spending a lot of money?' },
  { text: 'What are the pros and cons of buying {gear} online versus in a store?' },
  { text: "My partner thinks I'm spending too much on {topic}. How can I cut costs?", hobby: true },
  { text: 'How do I {goal} as someone {situation}?' },
  { text: 'What would a typical week look like if I want to {goal}?' },
  { text: 'Which brands are reliable for {gear}, and which should I avoid?', durable: true },
  { text: "What's the best way to learn more about {topic} without getting overwhelmed?" },
  { text: 'Can you explain the basics of {topic} for a total beginner?', hobby: true },
];

/** Questions that have nothing to sell: the honest answer inserts no ad. */
export const GENERAL_TEMPLATES: readonly string[] = [
  'Can you explain how compound interest works with a simple example?',
  'Help me write a polite email asking my manager for next Friday off.',
  "What's the difference between a Roth IRA and a traditional IRA?",
  'Summarize the main causes of World War I in a few paragraphs.',
  'How should I ask for a raise? I work as {job}.',
  "Translate 'Where is the train station?' into Spanish, French and German.",
  'How do I prepare for a job interview tomorrow morning?',
  'Explain how vaccines train the immune system, in plain language.',
  'Give me five conversation starters for meeting new neighbors.',
  'How many hours of sleep does an adult actually need?',
  "What's a good way to memorize a five-minute speech?",
  'Write a short, warm birthday message for a coworker.',
  'How do I work out an 18% tip on a $64 restaurant bill?',
  'What is the difference between weather and climate?',
  'Can you make a simple monthly budget for someone earning $3,200 a month?',
  'How can I stop procrastinating on big projects?',
  'What are some tips for public speaking when you get nervous?',
  'Explain the rules of chess to a complete beginner.',
  'How does a credit score work, and how can I improve mine?',
  'Why is the sky blue?',
  'How long should I boil an egg for a runny yolk?',
  'What are the signs of burnout, and how do people recover from it?',
  'Give me a fun fact about octopuses.',
  'Proofread this: "Their going to the meeting tomorow, weather or not it rains."',
  'How do I politely decline a wedding invitation?',
  'What is the difference between a virus and a bacterium?',
  'Can you explain what inflation is like I am twelve?',
  'What are good questions to ask at the end of a job interview?',
  'How do I write a short bio for my LinkedIn profile? I work as {job}.',
  'What are some ways to be more patient with people at work?',
];

export const TIMES = ['15 minutes', '20 minutes', 'half an hour', '45 minutes', 'an hour'];
export const SEASONS = ['this spring', 'this summer', 'this fall', 'before winter', 'this year', 'on a small budget'];
export const DEADLINES = ['the end of the year', 'my birthday', 'next summer', 'the holidays', 'my vacation in three months'];
